"""Imports of school records: reading, row checks, the ORM sync. The entry points are in provisioning/services.py."""
