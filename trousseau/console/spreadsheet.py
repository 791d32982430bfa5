"""CSV for spreadsheets: UTF-8 with a BOM (Excel reads the accents), `;` as French Excel expects, and no
cell that a spreadsheet would run as a formula (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def safe_cell(value: object) -> str:
    """The cell as text; one that starts like a formula gets a leading apostrophe, which spreadsheets hide."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    """Negative numbers stay numbers: `-3` is data, `-3+cmd|...` is not."""
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def csv_bytes(header: list[str], rows: Iterable[Iterable[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
