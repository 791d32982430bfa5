""" "Identifiant perdu": transitions, view, form, templates (it keeps no flow row, so has no diagram)."""
