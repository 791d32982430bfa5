"""An import's preview as a school reads it: per class, who arrives, who leaves, what changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from trousseau.directory.importers.report import Arrival, Change, Departure, ImportResult


@dataclass
class ClassPreview:
    class_name: str  # "" for records without a class
    arriving: list[Arrival] = field(default_factory=list)
    leaving: list[Departure] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


def by_class(result: ImportResult) -> list[ClassPreview]:
    """The named arrivals, departures and changes of `result`, grouped by class, classes in order."""
    classes: dict[str, ClassPreview] = {}

    def of(name: str) -> ClassPreview:
        return classes.setdefault(name, ClassPreview(name))

    for arrival in result.arriving:
        of(arrival.class_name).arriving.append(arrival)
    for departure in result.leaving:
        of(departure.class_name).leaving.append(departure)
    for change in result.changes:
        of(change.class_name).changes.append(change)
    # Pupils before guardians within a class; the unclassed last.
    for preview in classes.values():
        preview.arriving.sort(key=lambda a: (a.kind != "eleves", a.last_name, a.first_name))
    return sorted(classes.values(), key=lambda c: (c.class_name == "", c.class_name))
