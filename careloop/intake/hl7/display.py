"""P3 on the message page: a stored HL7 message shown one segment per line, with phones, id
numbers and addresses masked unless the viewer may reveal them and asked to."""

from __future__ import annotations

import re

from careloop.intake.hl7.mapping import ID_TYPES
from careloop.intake.hl7.parse import HL7Error, Segment, parse, split_segments
from careloop.lib.masking import mask_address, mask_id_number, mask_phone

# (segment, field) → how to mask it. XTN phones, CX ids typed ID/SFZ, XAD addresses.
PHONES = {("PID", 13), ("PID", 14), ("NK1", 5), ("NK1", 6)}
ADDRESSES = {("PID", 11), ("NK1", 4)}
ID_NUMBERS = {("PID", 19)}
_DIGITS = re.compile(r"\d{7,}")


def message_lines(text: str, *, reveal: bool = False) -> list[str]:
    if reveal:
        return split_segments(text)
    try:
        message = parse(text)
    except HL7Error:
        # Not parseable: we cannot tell a phone from a timestamp, so every long digit run goes.
        return [
            _DIGITS.sub(lambda m: mask_phone(m.group(0)), line) for line in split_segments(text)
        ]
    return [_masked(segment) for segment in message.segments]


def _masked(segment: Segment) -> str:
    seps = segment.seps
    fields = list(segment.fields)
    for n in range(3 if segment.id == "MSH" else 1, len(fields)):
        key = (segment.id, n)
        reps = segment.repetitions(n)
        if key in PHONES:
            fields[n] = seps.repetition.join(
                mask_phone(segment.get(n, 1, rep=i) or segment.get(n, 7, rep=i))
                for i in range(1, len(reps) + 1)
            )
        elif key in ADDRESSES and reps:
            fields[n] = mask_address(fields[n].replace(seps.component, ""))
        elif key in ID_NUMBERS and reps:
            fields[n] = mask_id_number(segment.get(n, 1))
        elif key == ("PID", 3):
            fields[n] = seps.repetition.join(
                _mask_cx(rep, seps.component, segment.get(n, 5, rep=i).upper())
                for i, rep in enumerate(reps, 1)
            )
    if segment.id == "MSH":
        return "MSH" + fields[1] + fields[2] + fields[1] + fields[1].join(fields[3:])
    return fields[0] + seps.field + seps.field.join(fields[1:]) if len(fields) > 1 else fields[0]


def _mask_cx(rep: str, component: str, kind: str) -> str:
    if kind not in ID_TYPES:
        return rep
    parts = rep.split(component)
    parts[0] = mask_id_number(parts[0])
    return component.join(parts)
