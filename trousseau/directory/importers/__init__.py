"""Imports of school records: reading, row checks, sync engines. The entry points are in directory/services.py."""
