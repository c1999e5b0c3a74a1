"""P3: masking of sensitive personal data for lists, exports and printouts.

Pure functions over strings: 138****5678, 4201**********1234, 张*三.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\D+")


def normalize_phone(value: str | None) -> str:
    """Canonical form used for the blind index: digits only, China's +86/0086 prefix removed.

    "+86 138 1234 5678", "0086-13812345678" and "138-1234-5678" all become "13812345678";
    a landline keeps its area code ("010-6512 3456" → "01065123456").
    """
    if not value:
        return ""
    text = value.strip()
    digits = _DIGITS.sub("", text)
    if text.startswith("+") and digits.startswith("86") and len(digits) > 11:
        digits = digits[2:]
    elif digits.startswith("0086") and len(digits) > 13:
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    return digits


def normalize_id_number(value: str | None) -> str:
    """Canonical resident id: no spaces, upper-case check letter X."""
    if not value:
        return ""
    return re.sub(r"\s+", "", value).upper()


def mask_phone(value: str | None) -> str:
    """138****5678 for a mobile; for other lengths keep the first 3 and last 4 where possible."""
    digits = normalize_phone(value)
    if not digits:
        return ""
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) <= 7:
        return digits[:1] + "*" * (len(digits) - 3) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(value: str | None) -> str:
    """4201**********1234: the first 4 and last 4 characters stay, every other one is starred."""
    text = normalize_id_number(value)
    if not text:
        return ""
    if len(text) <= 8:
        return text[:1] + "*" * (len(text) - 1)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_name(value: str | None) -> str:
    """张*三, 李*, 欧阳**; Latin names keep the first letter of each word."""
    if not value:
        return ""
    text = value.strip()
    if all(ord(c) < 128 for c in text):
        return " ".join(w[:1] + "*" * (len(w) - 1) for w in text.split())
    if len(text) == 1:
        return text
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_address(value: str | None) -> str:
    """Keep the first 6 characters (province/city/district), star the rest."""
    if not value:
        return ""
    text = value.strip()
    keep = min(6, max(1, len(text) // 2))
    return text[:keep] + "*" * min(8, len(text) - keep)
