"""The audit trail: every security step of every app, typed (events.py), written (services.py), kept (models.py).

It sits at the bottom, beside `core`: every app writes to it and it imports none of them.
"""
