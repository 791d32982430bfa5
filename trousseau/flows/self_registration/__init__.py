"""Self-registration by SMS, "Je n'ai pas de compte" (URL /inscription/): transitions, views, form, templates, diagram."""
