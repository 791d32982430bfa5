"""Reads of the directory."""

from __future__ import annotations

from django.db.models import QuerySet

from trousseau.core.text import fold
from trousseau.directory.models import Guardian, Guardianship


def guardians_matching(*, last_name: str, first_name: str, mobile: str) -> list[Guardian]:
    """Guardian records with this E.164 mobile whose names match, ignoring case, accents and hyphens."""
    last, first = fold(last_name), fold(first_name)
    if not last or not first:
        return []
    return [
        g
        for g in Guardian.objects.filter(mobile=mobile).order_by("pk")
        if fold(g.last_name) == last and fold(g.first_name) == first
    ]


def guardianships_of(guardian_ids: list[int]) -> QuerySet[Guardianship]:
    return (
        Guardianship.objects.filter(guardian_id__in=guardian_ids, is_legal_representative=True)
        .select_related("pupil", "pupil__school")
        .order_by("pupil__birth_date", "pupil_id")
    )
