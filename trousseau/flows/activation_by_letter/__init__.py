"""Activation with the school's letter: transitions, views, form, templates, diagram."""
