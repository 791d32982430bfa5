"""Email and SMS behind small interfaces chosen by settings, with a dev outbox twin."""
