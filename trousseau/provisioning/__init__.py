"""Accounts from school records: the import pipeline that writes the directory and then the accounts.

It sits above `directory` (records, row checks, the ORM sync) and `accounts`, so that neither imports
the other for an import: new records get provisional accounts, those who left are disabled, corrected
names rename accounts, departures revoke letters. Entry points: services.py and `manage.py import_records`.
"""
