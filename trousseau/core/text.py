"""Folding of names as families type them: accents, case, hyphens and spaces do not matter."""

from __future__ import annotations

import re
import unicodedata

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(value: str) -> str:
    """Lowercase ASCII letters and digits only: `Élodie-Marie  N'Diaye` -> `elodiemariendiaye`."""
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_ALNUM.sub("", ascii_only)
