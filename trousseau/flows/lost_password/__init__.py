""" "Mot de passe perdu", by SMS code or email link: transitions, views, form, templates, diagram."""
