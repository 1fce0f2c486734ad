"""Validate XML against the XSD subset used by junit.reduced.xsd (no lxml needed).

Understands global xs:element declarations (with ref=, type="xs:string", or an inline
xs:complexType), xs:sequence of element refs with minOccurs/maxOccurs, xs:attribute with
use= and the types xs:string, xs:int, xs:decimal, and xs:simpleContent extensions of
xs:string. Anything else in the schema is an error, so the subset cannot be exceeded
silently. Returns a list of error strings (empty: valid).
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

XS = "{http://www.w3.org/2001/XMLSchema}"
TYPES = {"xs:string": re.compile(r"(?s).*"), "xs:int": re.compile(r"^-?[0-9]+$"),
         "xs:decimal": re.compile(r"^-?[0-9]+(\.[0-9]+)?$")}


def _occurs(node, name, default):
    value = node.get(name, default)
    return None if value == "unbounded" else int(value)


class Schema:
    def __init__(self, xsd_text: str):
        root = ET.fromstring(xsd_text)
        self.elements = {}
        for el in root:
            if el.tag != XS + "element":
                raise ValueError(f"unsupported top-level {el.tag}")
            self.elements[el.get("name")] = el

    def validate(self, xml_text: str) -> list[str]:
        doc = ET.fromstring(xml_text)
        errors: list[str] = []
        if doc.tag not in self.elements:
            return [f"root element <{doc.tag}> is not declared"]
        self._element(doc, self.elements[doc.tag], errors, doc.tag)
        return errors

    def _element(self, node, decl, errors, where):
        type_ = decl.get("type")
        ctype = decl.find(XS + "complexType")
        if type_ is not None:
            if len(node):
                errors.append(f"{where}: <{node.tag}> of type {type_} has child elements")
            if node.attrib:
                errors.append(f"{where}: <{node.tag}> of type {type_} has attributes {sorted(node.attrib)}")
            return
        if ctype is None:
            raise ValueError(f"element {decl.get('name')} has neither type nor complexType")
        attrs_parent = ctype
        simple = ctype.find(XS + "simpleContent")
        if simple is not None:
            ext = simple.find(XS + "extension")
            if ext is None or ext.get("base") != "xs:string":
                raise ValueError("only simpleContent extensions of xs:string are supported")
            attrs_parent = ext
            if len(node):
                errors.append(f"{where}: <{node.tag}> has simple content but child elements")
        else:
            if (node.text or "").strip():
                errors.append(f"{where}: <{node.tag}> must not contain text")
            seq = ctype.find(XS + "sequence")
            self._sequence(node, seq, errors, where)
        self._attributes(node, attrs_parent, errors, where)

    def _attributes(self, node, parent, errors, where):
        declared = {}
        for a in parent.findall(XS + "attribute"):
            declared[a.get("name")] = a
            if a.get("use") == "required" and a.get("name") not in node.attrib:
                errors.append(f"{where}: <{node.tag}> lacks required attribute {a.get('name')}")
        for name, value in node.attrib.items():
            a = declared.get(name)
            if a is None:
                errors.append(f"{where}: <{node.tag}> has undeclared attribute {name}")
            elif not TYPES[a.get("type", "xs:string")].match(value):
                errors.append(f"{where}: <{node.tag}> attribute {name}={value!r} is not {a.get('type')}")

    def _sequence(self, node, seq, errors, where):
        children = list(node)
        i = 0
        for item in (seq if seq is not None else []):
            if item.tag != XS + "element" or item.get("ref") is None:
                raise ValueError("sequences may only hold element refs")
            ref, low, high = item.get("ref"), _occurs(item, "minOccurs", "1"), _occurs(item, "maxOccurs", "1")
            count = 0
            while i < len(children) and children[i].tag == ref and (high is None or count < high):
                self._element(children[i], self.elements[ref], errors, f"{where}/{ref}[{count}]")
                i += 1
                count += 1
            if count < low:
                errors.append(f"{where}: <{node.tag}> needs at least {low} <{ref}>")
        for extra in children[i:]:
            errors.append(f"{where}: unexpected <{extra.tag}> in <{node.tag}> (wrong element or order)")
