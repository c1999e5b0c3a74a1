"""ADT messages as a HIS sends them, for the tests, the benchmark and MAPPING.md's examples."""

from __future__ import annotations

from itertools import count

_ids = count(1)
OMIT = object()  # leave the field out of the message (absent, not empty)


def segment(seg_id: str, fields: dict[int, str]) -> str:
    """One segment from {field number: value}; unlisted fields are empty."""
    size = max(fields, default=0)
    values = [fields.get(n, "") for n in range(1, size + 1)]
    return "|".join([seg_id, *values])


def msh(event: str, control_id: str, *, charset: str = "UNICODE UTF-8", app: str = "HIS",
        facility: str = "SFYY", structure: str = "") -> str:  # fmt: skip
    fields = {
        3: app,
        4: facility,
        5: "CARELOOP",
        6: "SFYY",
        7: "20260301120000",
        9: f"ADT^{event}^{structure or 'ADT_' + event}",
        10: control_id,
        11: "P",
        12: "2.5",
    }
    if charset:
        fields[18] = charset
    # MSH-1 is the separator itself and MSH-2 the encoding characters.
    return "MSH|^~\\&|" + "|".join(fields.get(n, "") for n in range(3, max(fields) + 1))


def adt(
    event: str = "A01",
    *,
    control_id: str | None = None,
    patient_no="P0001",
    name="张^三",
    birth="19800115",
    sex="M",
    address="北京市东城区东四十条1号^^北京市^北京市",
    phones="13800138000",
    id_number=OMIT,
    patient_class="I",
    department="XNK",
    doctor="D001^李^医生",
    visit_no="Z0001",
    disposition=OMIT,
    admitted="20260301080000",
    discharged=OMIT,
    total_cost=OMIT,
    readmission=OMIT,
    diagnoses=(("I10", "原发性高血压", ""),),
    pv2_40=OMIT,
    death=OMIT,
    prior=OMIT,
    charset="UNICODE UTF-8",
    app="HIS",
    facility="SFYY",
    evn_time="20260301120000",
    extra=(),
) -> str:
    """An ADT message (segments joined by CR). Field arguments are HL7 text (components with
    ``^``); ``OMIT`` leaves a field out, ``'""'`` sends HL7's explicit null."""
    control_id = control_id or f"MSG{next(_ids):06d}"
    segments = [msh(event, control_id, charset=charset, app=app, facility=facility)]
    segments.append(segment("EVN", {1: event, 2: evn_time}))
    pid = {1: "1", 3: f"{patient_no}^^^SFYY^PI", 5: name, 7: birth, 8: sex, 11: address, 13: phones}
    if id_number is not OMIT:
        pid[19] = id_number
    if death is not OMIT:
        pid[29], pid[30] = death, "Y"
    segments.append(segment("PID", {k: v for k, v in pid.items() if v is not OMIT}))
    if prior is not OMIT:
        segments.append(segment("MRG", {1: f"{prior}^^^SFYY^PI"}))
    if event != "A40" or visit_no is not OMIT:
        pv1 = {1: "1", 2: patient_class, 3: f"{department}^^^SFYY", 7: doctor, 19: visit_no}
        optional = {13: readmission, 36: disposition, 44: admitted, 45: discharged, 47: total_cost}
        pv1.update({k: v for k, v in optional.items() if v is not OMIT})
        segments.append(segment("PV1", {k: v for k, v in pv1.items() if v is not OMIT}))
    if pv2_40 is not OMIT:
        segments.append(segment("PV2", {40: pv2_40}))
    for i, (code, text, kind, *rest) in enumerate(diagnoses, 1):
        fields = {1: str(i), 3: f"{code}^{text}^ICD10", 6: kind}
        if rest:
            fields[15] = rest[0]
        segments.append(segment("DG1", fields))
    segments.extend(extra)
    return "\r".join(segments) + "\r"


def mllp(message: str | bytes, encoding: str = "utf-8") -> bytes:
    data = message.encode(encoding) if isinstance(message, str) else message
    return b"\x0b" + data + b"\x1c\r"
