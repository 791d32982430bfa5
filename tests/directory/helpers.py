"""Export files as SIECLE and ONDE write them, built in memory for the import tests."""

from __future__ import annotations

import io
from collections.abc import Iterable

PUPIL_HEADER = "INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI"
GUARDIAN_HEADER = "ID_RESPONSABLE;NOM;PRENOM;TEL_PORTABLE;COURRIEL;INE_ELEVE;RESP_LEGAL"


def csv_file(header: str, rows: Iterable[str], *, encoding: str = "utf-8", bom: bool = False) -> io.BytesIO:
    text = "\r\n".join([header, *rows]) + "\r\n"
    data = text.encode(encoding)
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


def pupils_csv(rows: Iterable[str], **kw) -> io.BytesIO:
    return csv_file(PUPIL_HEADER, rows, **kw)


def guardians_csv(rows: Iterable[str], **kw) -> io.BytesIO:
    return csv_file(GUARDIAN_HEADER, rows, **kw)


def ine(n: int) -> str:
    return f"{n:09d}AB"
