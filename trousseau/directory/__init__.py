"""The directory: schools, pupils, guardians and their links, as the schools recorded them."""
