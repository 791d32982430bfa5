"""FranceConnect first login: a FranceConnect identity not yet linked finds its guardian by name and
mobile phone, proves the phone by SMS code, confirms the children's birth dates, and the account is
activated and linked. Transitions in `transitions`, step views in `views`, templates in `templates/`,
the state diagram in `diagram.mermaid`. The FranceConnect button and callback that start it are sign-in's
(trousseau/signin/franceconnect_button.py)."""
