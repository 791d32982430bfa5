"""The letters' PDF as a tagged PDF (issue #19): a logical structure that a screen reader can follow.

reportlab draws glyphs, rules and images but writes no logical structure: a screen reader would get each
page in drawing order, with no headings, no list and an unnamed image. Rather than a second PDF library and
a second pass over a school's 1000 pages, what pdf.py draws is marked while it is drawn (one marked-content
sequence with its MCID per heading, paragraph, list label or body and figure; the box's frame as an artifact),
and `finish` writes the structure with reportlab's own pdfdoc objects before the canvas is saved: Document,
then a Sect per letter holding its H1/H2/P/L/LI/Lbl/LBody/Figure in reading order, the ParentTree,
/StructParents on each page, /MarkInfo and /Lang in the catalogue, and the title shown as the window's.
A line whose letters the standard fonts cannot show (pdf.printable folds "ễ" to "e") carries its real text
as /ActualText, so copying or reading it aloud gives the name as it is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFObject, PDFObjectReference, PDFPage, PDFString
from reportlab.pdfgen.canvas import Canvas


@dataclass(eq=False)
class _Element:
    role: str  # a standard structure type: Document, Sect, H1, P, L, LI, Lbl, LBody, Figure…
    page: int = -1  # a leaf's page (its marked content lies on one page); -1 for a grouping element
    kids: list[_Element | int] = field(default_factory=list)  # elements, or a leaf's MCIDs on its page
    alt: str = ""  # a figure's text alternative
    bbox: tuple[float, float, float, float] | None = None  # a figure's place on its page
    ref: PDFObjectReference | None = None  # once written


def _text_string(text: str) -> str:
    """A PDF text string in a content stream: UTF-16BE with its byte order mark, as hex (nothing to escape)."""
    return "<" + ("\ufeff" + text).encode("utf-16-be").hex().upper() + ">"


class Tagger:
    """Marks what is drawn on `canvas` and, at the end, writes the structure tree of those marks."""

    def __init__(self, canvas: Canvas, *, lang: str) -> None:
        self.canvas = canvas
        self.lang = lang
        self.root = _Element("Document")
        self._open = [self.root]
        self._mcids: list[list[_Element]] = [[]]  # per page, the element that each MCID belongs to

    @contextmanager
    def group(self, role: str) -> Iterator[None]:
        """An element that holds the elements opened inside it (Sect, L, LI), and no content of its own."""
        element = _Element(role)
        self._open[-1].kids.append(element)
        self._open.append(element)
        try:
            yield
        finally:
            self._open.pop()

    @contextmanager
    def content(
        self, role: str, *, alt: str = "", bbox: tuple[float, float, float, float] | None = None
    ) -> Iterator[None]:
        """A leaf element (H1, P, Lbl, LBody, Figure…) whose content is what is drawn inside."""
        page = len(self._mcids) - 1
        mcid = len(self._mcids[page])
        element = _Element(role, page=page, kids=[mcid], alt=alt, bbox=bbox)
        self._open[-1].kids.append(element)
        self._mcids[page].append(element)
        self.canvas.addLiteral(f"/{role} <</MCID {mcid}>> BDC")
        try:
            yield
        finally:
            self.canvas.addLiteral("EMC")

    @contextmanager
    def artifact(self) -> Iterator[None]:
        """Decoration (a frame, a rule): no element, and a screen reader skips it."""
        self.canvas.addLiteral("/Artifact BMC")
        try:
            yield
        finally:
            self.canvas.addLiteral("EMC")

    @contextmanager
    def actual_text(self, text: str, shown: str) -> Iterator[None]:
        """Drawn as `shown`, read as `text` when the fonts could not show it as written."""
        if shown == text:
            yield
            return
        self.canvas.addLiteral(f"/Span <</ActualText {_text_string(text)}>> BDC")
        try:
            yield
        finally:
            self.canvas.addLiteral("EMC")

    def show_page(self) -> None:
        self.canvas.showPage()
        self._mcids.append([])

    def finish(self) -> None:
        """Writes the structure tree and the catalogue entries of a tagged PDF; call it before canvas.save()."""
        # The canvas's document, private but the only handle on its pages (setCatalogEntry goes through it too).
        # Any: types-reportlab leaves the document's methods untyped.
        document: Any = self.canvas._doc  # type: ignore[attr-defined]  # noqa: SLF001
        pages: list[PDFPage] = document.Pages.pages
        tree_root = PDFDictionary({"Type": "/StructTreeRoot"})
        tree_root_ref = document.Reference(tree_root)
        page_refs = [document.Reference(page) for page in pages]
        tree_root["K"] = self._write(self.root, tree_root_ref, document, page_refs)
        parent_tree: list[object] = []
        for index, page in enumerate(pages):
            parent_tree += [index, PDFArray([element.ref for element in self._mcids[index]])]
            # A PDFPage writes the keys its __NoDefault__ names: this page's list gains StructParents.
            page.__NoDefault__ = [*page.__NoDefault__, "StructParents"]
            page.StructParents = index  # type: ignore[attr-defined]
        tree_root["ParentTree"] = document.Reference(PDFDictionary({"Nums": PDFArray(parent_tree)}))
        tree_root["ParentTreeNextKey"] = len(pages)
        self.canvas.setCatalogEntry("StructTreeRoot", tree_root)
        self.canvas.setCatalogEntry("MarkInfo", {"Marked": "true"})
        self.canvas.setCatalogEntry("Lang", self.lang)
        self.canvas.setViewerPreference("DisplayDocTitle", "true")

    def _write(
        self,
        element: _Element,
        parent: PDFObjectReference,
        document: Any,
        page_refs: list[PDFObjectReference],
    ) -> PDFObjectReference:
        written = _StructElem(element, parent, page_refs[element.page] if element.page >= 0 else None)
        element.ref = document.Reference(written)
        written.kids = [
            kid if isinstance(kid, int) else self._write(kid, element.ref, document, page_refs) for kid in element.kids
        ]
        return element.ref


class _StructElem(PDFObject):
    """A structure element, formatted directly: some 30 a letter, which PDFDictionary's general formatting made
    the larger part of the tagging's cost."""

    def __init__(self, element: _Element, parent: PDFObjectReference, page: PDFObjectReference | None) -> None:
        self.element = element
        self.parent = parent
        self.page = page
        self.kids: list[PDFObjectReference | int] = []

    def format(self, document: Any) -> bytes:
        element = self.element
        parts = [b"<< /Type /StructElem /S /", element.role.encode(), b" /P ", self.parent.format(document)]
        if self.page is not None:
            parts += [b" /Pg ", self.page.format(document)]
        if element.alt:
            parts += [b" /Alt ", PDFString(element.alt).format(document)]
        if element.bbox:
            parts += [b" /A << /O /Layout /BBox ", PDFArray(list(element.bbox)).format(document), b" >>"]
        kids = [kid.format(document) if isinstance(kid, PDFObjectReference) else b"%d" % kid for kid in self.kids]
        parts += [b" /K ", kids[0] if len(kids) == 1 else b"[" + b" ".join(kids) + b"]", b" >>"]
        return b"".join(parts)
