"""Safe XML parsing (defusedxml) shared by the ndl and feed parsers."""
from __future__ import annotations

from xml.etree.ElementTree import Element

from ..errors import ParseError


def parse_xml(body: bytes, source: str) -> Element:
    """Root Element of `body`; leading whitespace is tolerated (pasted captures start with a newline)."""
    from xml.etree.ElementTree import ParseError as XMLSyntaxError

    from defusedxml import ElementTree as SafeET  # lazy: `import crawlers` stays light

    if not isinstance(body, (bytes, bytearray)):
        raise ParseError(source, f"body must be bytes, got {type(body).__name__}")
    data = bytes(body).lstrip(b"\xef\xbb\xbf").lstrip()
    if not data.startswith(b"<"):
        raise ParseError(source, "body is not XML")
    try:
        root: Element = SafeET.fromstring(data)  # defusedxml (untyped) builds stdlib Elements
        return root
    except XMLSyntaxError as exc:
        raise ParseError(source, f"malformed XML: {exc}") from None
    except Exception as exc:  # defusedxml refuses entities/DTDs: also not a shape we accept
        raise ParseError(source, f"rejected XML: {exc.__class__.__name__}: {exc}") from None


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
