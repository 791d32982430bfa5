"""Steps shared by the journeys: the SMS code (codes, budgets, page) and the children's birth dates (with their forms)."""
