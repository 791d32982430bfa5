"""HTML pages from the files in templates/: `$name` placeholders, every value escaped unless Markup."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parent / "templates"


class Markup(str):
    """HTML the ENT wrote itself (an already rendered fragment): inserted as is."""

    __slots__ = ()


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / f"{name}.html").read_text(encoding="utf-8"))


def render(name: str, /, **values: object) -> Markup:
    escaped = {key: value if isinstance(value, Markup) else html.escape(str(value)) for key, value in values.items()}
    return Markup(_template(name).substitute(escaped))


def join(fragments: list[Markup]) -> Markup:
    return Markup("\n".join(fragments))
