"""Email verification and the change of email that starts it: transitions, views, templates, diagram."""
