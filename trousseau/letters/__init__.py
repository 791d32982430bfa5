"""Activation letters in bulk, for the school console: which accounts, issuing them, the PDF and the mail-merge CSV.

A plain package above `accounts` (it issues through `accounts.services.letter_issue`) and below the
console that offers it; it has no models, templates or commands, so it is no Django app.
"""
