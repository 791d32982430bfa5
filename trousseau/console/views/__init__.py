"""Thin views of the console: check the staff session and the school's scope, call a service, render."""
