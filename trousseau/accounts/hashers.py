"""argon2id with the parameters the project pins (OWASP: m=19 MiB, t=2, p=1)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class TrousseauArgon2Hasher(Argon2PasswordHasher):
    # Django's check_password() rehashes a stored hash whose parameters differ from these.
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
