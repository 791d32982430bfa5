"""One module per flow kind, one function per transition (each guards its source state)."""
