"""Just enough of a QTI 3.0 delivery engine to score what elearn's exporter writes.

The tests export items, then score every response both with this interpreter (reading only the
package) and with elearn's own scorer, and require the same mark.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

from elearn.content.qti3 import QTI_NS, identifier
from elearn.domain.content import ItemSpec

Q = f"{{{QTI_NS}}}"


def open_package(data: bytes) -> dict[str, ET.Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: ET.fromstring(archive.read(name)) for name in archive.namelist()}


class QtiItem:
    """Just enough of a QTI 3 delivery engine to score the responses the exporter allows."""

    def __init__(self, root: ET.Element) -> None:
        self.root = root
        declaration = root.find(f"{Q}qti-response-declaration")
        assert declaration is not None
        self.declaration = declaration
        self.cardinality = declaration.get("cardinality")
        self.base_type = declaration.get("base-type")

    def score(self, response: Any) -> tuple[float, str | None]:
        self.values: dict[str, Any] = {"RESPONSE": response, "SCORE": 0.0, "FEEDBACK": None}
        processing = self.root.find(f"{Q}qti-response-processing")
        assert processing is not None
        self._run(list(processing))
        return self.values["SCORE"], self.values["FEEDBACK"]

    def _run(self, rules: list[ET.Element]) -> None:
        for rule in rules:
            tag = rule.tag.removeprefix(Q)
            if tag == "qti-set-outcome-value":
                self.values[rule.get("identifier", "")] = self._eval(rule[0])
            elif tag == "qti-response-condition":
                for branch in rule:
                    kind = branch.tag.removeprefix(Q)
                    if kind == "qti-response-else":
                        self._run(list(branch))
                        break
                    if self._eval(branch[0]):
                        self._run(list(branch)[1:])
                        break
            else:
                raise AssertionError(f"unexpected rule {tag}")

    def _correct(self) -> Any:
        values = [v.text or "" for v in self.declaration.iter(f"{Q}qti-value")]
        many = self.cardinality in ("multiple", "ordered")
        return self._typed(values if many else values[0])

    def _typed(self, value: Any) -> Any:
        return float(value) if self.base_type == "float" and value is not None else value

    def _eval(self, node: ET.Element) -> Any:
        tag = node.tag.removeprefix(Q)
        args = list(node)
        if tag == "qti-variable":
            return self.values[node.get("identifier", "")]
        if tag == "qti-correct":
            return self._correct()
        if tag == "qti-base-value":
            kind, text = node.get("base-type"), node.text or ""
            return float(text) if kind == "float" else text
        if tag == "qti-is-null":
            value = self._eval(args[0])
            return value is None or value == [] or value == ""
        if tag == "qti-match":
            left, right = (self._eval(a) for a in args)
            if self.cardinality == "multiple" and isinstance(right, list):
                return sorted(left or []) == sorted(right)
            return left == right  # single values, and ordered containers in order
        if tag == "qti-and":
            return all(self._eval(a) for a in args)
        if tag == "qti-or":
            return any(self._eval(a) for a in args)
        if tag == "qti-not":
            return not self._eval(args[0])
        if tag == "qti-index":
            container = self._eval(args[0]) or []
            n = int(node.get("n", "0"))
            return container[n - 1] if 1 <= n <= len(container) else None
        if tag == "qti-sum":
            return sum(float(self._eval(a)) for a in args)
        if tag in ("qti-gte", "qti-lte"):
            left, right = (self._eval(a) for a in args)
            return left >= right if tag == "qti-gte" else left <= right
        if tag == "qti-map-response":
            return self._map(self.values["RESPONSE"])
        raise AssertionError(f"unexpected expression {tag}")

    def _map(self, response: Any) -> float:
        mapping = self.declaration.find(f"{Q}qti-mapping")
        assert mapping is not None
        entries = [
            (e.get("map-key", ""), float(e.get("mapped-value", "0")), e.get("case-sensitive"))
            for e in mapping
        ]
        given = response if isinstance(response, list) else [response]
        total = 0.0
        for value in set(given):  # each distinct value counts once
            for key, mapped, case_sensitive in entries:
                same = key == value if case_sensitive != "false" else key.lower() == value.lower()
                if same:
                    total += mapped
                    break
            else:
                total += float(mapping.get("default-value", "0"))
        low, high = (
            float(mapping.get("lower-bound", "-inf")),
            float(mapping.get("upper-bound", "inf")),
        )
        return min(high, max(low, total))


def as_qti(item: ItemSpec, response: Any) -> Any:
    """elearn's response as the QTI response variable."""
    if response is None:
        return None
    if item.type == "single_choice":
        return identifier(response)
    if item.type == "multiple_response":
        return [identifier(o) for o in response]
    if item.type == "true_false":
        return "true" if response else "false"
    if item.type == "numeric":
        return float(response)
    if item.type == "matching":
        return [f"{identifier(p)} {identifier(o)}" for p, o in response.items()]
    if item.type == "ordering":
        return [identifier(step) for step in response]
    return response
