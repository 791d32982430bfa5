"""One thin view per step: parse the form, call one transition, render or redirect."""
