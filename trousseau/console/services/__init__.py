"""Writes of the console: staff, account actions, letters and imports. Each step is audited."""
