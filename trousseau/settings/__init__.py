"""Trousseau's settings (`DJANGO_SETTINGS_MODULE=trousseau.settings`), from the environment.

`base` holds the service's own, `federation` the protocols'; split only to keep each file readable.
"""

from trousseau.settings.base import *  # noqa: F403 - Django reads the settings as this module's names
from trousseau.settings.federation import *  # noqa: F403
