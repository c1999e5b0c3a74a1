"""ICD-10 code lists and ranges (E5: privacy-sensitive diagnoses; F5: a stage's diagnosis codes).

A list is written the way hospitals write it: ``A50-A64, B20–B24, O04``. An entry matches a
code by its category (letter + two digits) or, when the entry itself has a subdivision
(``O04.1``), by prefix: ``A51.0`` is inside ``A50-A64``; ``O04`` matches ``O04`` and ``O04.9``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CODE = re.compile(r"^([A-Z])(\d{2})(?:\.?([0-9A-Z]*))?$")
_SPLIT = re.compile(r"[,，;；、\s]+")
_DASH = re.compile(r"\s*[-–—~～至]\s*")


class ICD10Error(ValueError):
    """A list entry that is not an ICD-10 code or range; the message is Chinese (S5)."""


def normalize(code: str) -> str:
    return (code or "").strip().upper().replace(" ", "")


def _category(code: str) -> tuple[str, int] | None:
    m = _CODE.match(normalize(code))
    if not m:
        return None
    return m.group(1), int(m.group(2))


@dataclass(frozen=True)
class CodeSet:
    ranges: tuple[tuple[tuple[str, int], tuple[str, int]], ...]
    prefixes: tuple[str, ...]
    text: str
    # A hospital has a few hundred distinct codes; the planner asks about each millions of times.
    _seen: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __bool__(self) -> bool:
        return bool(self.ranges or self.prefixes)

    def matches(self, code: str) -> bool:
        found = self._seen.get(code)
        if found is None:
            found = self._seen[code] = self._matches(code)
        return found

    def _matches(self, code: str) -> bool:
        code = normalize(code)
        if not code:
            return False
        flat = code.replace(".", "")
        if any(flat.startswith(p) for p in self.prefixes):
            return True
        cat = _category(code)
        return cat is not None and any(lo <= cat <= hi for lo, hi in self.ranges)

    def matches_any(self, codes) -> bool:
        return any(self.matches(c) for c in codes)


def parse_codes(text: str) -> CodeSet:
    """Parse a list such as ``A50-A64, B20-B24, O04``; raise ICD10Error naming the bad entry."""
    ranges, prefixes = [], []
    text = (text or "").strip()
    if text:
        # Ranges first, so "A50 - A64" with spaces is one entry.
        joined = _DASH.sub("-", text)
        for entry in _SPLIT.split(joined):
            if not entry:
                continue
            entry = entry.upper()
            if "-" in entry:
                lo_text, _sep, hi_text = entry.partition("-")
                lo, hi = _category(lo_text), _category(hi_text)
                if lo is None or hi is None or "." in lo_text + hi_text:
                    raise ICD10Error(f"“{entry}”不是有效的 ICD-10 类目范围（应如 A50-A64）")
                if hi < lo:
                    raise ICD10Error(f"“{entry}”的起点大于终点")
                ranges.append((lo, hi))
            else:
                m = _CODE.match(entry)
                if not m:
                    raise ICD10Error(f"“{entry}”不是有效的 ICD-10 编码（应如 O04 或 O04.1）")
                if m.group(3):
                    prefixes.append(entry.replace(".", ""))
                else:
                    cat = (m.group(1), int(m.group(2)))
                    ranges.append((cat, cat))
    return CodeSet(tuple(ranges), tuple(prefixes), text)
