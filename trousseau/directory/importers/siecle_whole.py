"""A SIECLE file as SIECLE writes it, read whole in C: one parse (libxml2), one XSLT (libxslt), no Python per field.

siecle_xml.SiecleFile.elements streams any file and visits each item in Python (about 15 µs an item). A
school's export is a few MB: parsed whole, its wanted items become tab-separated lines in one XSLT, and
Python only splits the lines. The result is exactly what the stream hands out, because only a file of the
plain shape SIECLE writes is read this way: one PARAMETRES first, every item where the stream looks for it
(`DONNEES/<list>/<item>`) and nowhere else, the wanted fields leaves, no comment, processing instruction or
namespace in the document, no tab or newline in a field. Anything else (broken XML, another root, a DTD, an
odd nesting) returns None: the stream reads the file again and says what is wrong, as it always did.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lxml import etree

Wanted = dict[tuple[str, str], tuple[str, tuple[str, ...] | None]]
Item = tuple[str, int, str, Any]
GROUP = "#"  # opens a group of a grouped item's line (never an element name, so never a leaf's name)
TAB, NEWLINE = "&#9;", "&#10;"  # in the stylesheet (XML)


def _parser() -> etree.XMLParser:
    # The stream's options (siecle_xml.SiecleFile.elements): no entity, no network, no DTD, no huge tree.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def read_whole(text: bytes, root: str, wanted: Wanted, item_tags: tuple[str, ...]) -> list[Item] | None:
    """(list, line, identifier, fields or groups) of each wanted item, PARAMETRES first; None: stream it instead."""
    if b"xmlns" in text:
        return None  # a namespace: the stream's tags would not match (nor would these)
    try:
        tree = etree.fromstring(text, _parser())  # noqa: S320 (no entity, no DTD, no network: the stream's options)
    except etree.XMLSyntaxError:
        return None
    specs = tuple(sorted(wanted.items()))
    if tree.tag != root or not _plain(tree, item_tags):
        return None
    transform, items = _compiled(specs)
    params = tree[0]
    found: list[Item] = [("PARAMETRES", params.sourceline, "", _leaves(params))]
    lines = str(transform(tree.getroottree())).split("\n")
    elements = items(tree)
    if len(lines) != len(elements) + 1:
        return None  # a newline in a field
    for line, element in zip(lines, elements, strict=False):
        n, shape, ident, *fields = line.split("\t")
        (list_tag, _), (_, names) = specs[int(n)]
        if names is not None:
            if shape != "0" or len(fields) != len(names):
                return None  # a field that is no leaf, or a tab in a value
            found.append((list_tag, element.sourceline, ident, tuple(map(str.strip, fields))))
        else:
            deeper, groups, leaves = shape.split(":")
            if deeper != "0" or len(fields) != int(groups) + 2 * int(leaves):
                return None
            found.append((list_tag, element.sourceline, ident, _groups(fields)))
    return found


def _plain(tree: Any, item_tags: tuple[str, ...]) -> bool:
    """One PARAMETRES, first; every item at `/*/DONNEES/<list>/<item>`; no comment nor processing instruction."""
    if next(tree.iter(etree.Comment, etree.ProcessingInstruction), None) is not None:
        return False
    if not len(tree) or tree[0].tag != "PARAMETRES" or sum(1 for _ in tree.iter("PARAMETRES")) != 1:
        return False
    others = [t for t in item_tags if t != "PARAMETRES"]
    placed = sum(1 for data in tree.iterchildren("DONNEES") for group in data for _ in group.iterchildren(*others))
    return placed == sum(1 for _ in tree.iter(*others))


def _leaves(element: Any) -> dict[str, str]:
    return {child.tag: (child.text or "").strip() for child in element if not len(child)}


def _groups(parts: list[str]) -> list[dict[str, str]]:
    """`# name value name value # …`: a name is never "#", so a value may be anything."""
    groups: list[dict[str, str]] = []
    i = 0
    while i < len(parts):
        if parts[i] == GROUP:
            groups.append({})
            i += 1
        else:
            groups[-1][parts[i]] = parts[i + 1].strip()
            i += 2
    return groups


@lru_cache(maxsize=8)
def _compiled(specs: tuple[Any, ...]) -> tuple[etree.XSLT, etree.XPath]:
    union = " | ".join(f"/*/DONNEES/{list_tag}/{item_tag}" for (list_tag, item_tag), _ in specs)
    stylesheet = etree.fromstring(_stylesheet(specs, union))
    return etree.XSLT(stylesheet, access_control=etree.XSLTAccessControl.DENY_ALL), etree.XPath(union)


def _stylesheet(specs: tuple[Any, ...], union: str) -> str:
    """One line per item: its spec's number, its shape (elements too deep; groups and leaves), identifier, fields."""
    tab = f"<xsl:text>{TAB}</xsl:text>"
    branches = []
    for n, ((list_tag, item_tag), (attribute, names)) in enumerate(specs):
        ident = f'<xsl:value-of select="@{attribute}"/>' if attribute else ""
        if names is not None:
            shape = '<xsl:value-of select="count(*/*)"/>'
            fields = "".join(f'{tab}<xsl:value-of select="{name}[last()]"/>' for name in names)
        else:
            shape = '<xsl:value-of select="concat(count(*/*/*), \':\', count(*[*]), \':\', count(*[*]/*))"/>'
            fields = (
                f'<xsl:for-each select="*[*]">{tab}<xsl:text>{GROUP}</xsl:text>'
                f'<xsl:for-each select="*">{tab}<xsl:value-of select="name()"/>{tab}<xsl:value-of select="."/>'
                "</xsl:for-each></xsl:for-each>"
            )
        branches.append(
            f'<xsl:when test="self::{item_tag} and parent::{list_tag}"><xsl:text>{n}</xsl:text>{tab}{shape}{tab}'
            f"{ident}{fields}</xsl:when>"
        )
    return (
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        '<xsl:output method="text" encoding="UTF-8"/><xsl:template match="/">'
        f'<xsl:for-each select="{union}"><xsl:choose>{"".join(branches)}</xsl:choose>'
        f"<xsl:text>{NEWLINE}</xsl:text></xsl:for-each></xsl:template></xsl:stylesheet>"
    )
