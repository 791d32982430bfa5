"""Change of mobile by SMS code, from "Gérer mon compte": transitions, views, form, templates, diagram."""
