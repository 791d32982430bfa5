"""The small kernel shared by every app: secrets, text folding, throttling, client address."""
