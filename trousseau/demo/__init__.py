"""The demo académie that `make run` creates, and the letters it writes to var/demo/credentials.csv."""
