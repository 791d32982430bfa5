"""Accounts: logins, passwords, letters, sessions and the audit trail."""
