"""Reads of the console, always within one school the caller has already checked is in scope."""
