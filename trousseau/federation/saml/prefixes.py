"""One namespace prefix per namespace in what pysaml2 still writes (single logout messages): samlp,
saml, ds, xenc, xs, xsi, instead of the ns0, ns1… ElementTree gives namespaces it was not told about.

Login responses do not go through pysaml2: `outbound` writes them with these same prefixes.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from saml2 import samlp
from saml2.saml import NAMESPACE as SAML
from saml2.saml import XS_NAMESPACE, XSI_NAMESPACE
from saml2.xmldsig import NAMESPACE as DS
from saml2.xmlenc import NAMESPACE as XENC

PREFIXES = {"samlp": samlp.NAMESPACE, "saml": SAML, "ds": DS, "xenc": XENC, "xs": XS_NAMESPACE, "xsi": XSI_NAMESPACE}


def install() -> None:
    """Called once by the app's `ready()`: ElementTree's prefix registry is process-wide."""
    for prefix, uri in PREFIXES.items():
        ET.register_namespace(prefix, uri)
