"""P4.2: an ADT message → what to do (a ``Plan``). Pure: no database; MAPPING.md is the table.

A01/A03/A04/A08 become one ``VisitRow`` through the very ``parse_row`` the file import uses, so
every intake path validates alike and produces the same rows (P4). The row's ``present`` names
only the fields the message carried: an absent field keeps the stored value, and the HL7 null
``""`` clears it. A11, A13 and A40 are the P5 events; A03 with disposition 5 and PID-30 "Y" are
deaths.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from careloop.intake.hl7.parse import (
    NULL,
    Header,
    HL7Error,
    Message,
    Segment,
    component_of,
    parse_ts,
)
from careloop.intake.rows import ICD10, LABELS, VisitRow, parse_row

UPSERT, CANCEL_ADMIT, CANCEL_DISCHARGE, MERGE = (
    "upsert",
    "cancel_admit",
    "cancel_discharge",
    "merge",
)
EVENTS = {
    "A01": UPSERT,  # admit
    "A03": UPSERT,  # discharge
    "A04": UPSERT,  # outpatient / emergency registration
    "A02": UPSERT,  # transfer: the new department arrives like an update (P5 department_changed)
    "A08": UPSERT,  # update patient information
    "A11": CANCEL_ADMIT,
    "A13": CANCEL_DISCHARGE,
    "A40": MERGE,
}
# Where each §9 column comes from, for the reason sent back in ERR-2 and MSA-3.
LOCATION = {
    "patient_no": "PID-3",
    "name": "PID-5",
    "birth_date": "PID-7",
    "sex": "PID-8",
    "address": "PID-11",
    "phone": "PID-13",
    "id_number": "PID-19",
    "visit_type": "PV1-2",
    "department": "PV1-3",
    "attending_doctor": "PV1-7",
    "first_visit": "PV1-13",
    "visit_no": "PV1-19",
    "disposition": "PV1-36",
    "admitted_at": "PV1-44",
    "visit_at": "PV1-44",
    "discharged_at": "PV1-45",
    "total_cost": "PV1-47",
    "chronic": "PV2-40",
    "diagnosis": "DG1-3",
    "icd10": "DG1-3",
    "responsible_nurse": "ROL-4",
}
SEX = {
    "M": "1", "F": "2", "U": "0", "O": "9", "A": "9", "N": "9",
    "0": "0", "1": "1", "2": "2", "9": "9", "男": "1", "女": "2", "未知": "0", "未说明": "9",
}  # fmt: skip
ID_TYPES = {"ID", "SFZ", "NNCHN", "CID"}  # PID-3 repetitions that carry the resident id number
NURSE_ROLES = {"NURSE", "RN", "ZRHS", "责任护士"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Plan:
    event: str
    action: str
    patient_no: str = ""
    visit_no: str = ""
    visit_type: str = ""
    row: VisitRow | None = None
    staff_ids: dict[str, str] = field(default_factory=dict)  # XCN.1 ids, tried when names fail
    death_at: dt.datetime | None = None  # PID-29/30 death notice
    death_notice: bool = False
    merges: list[tuple[str, str]] = field(default_factory=list)  # (surviving, prior) patient ids
    occurred_at: dt.datetime | None = None


def plan_message(message: Message, header: Header, tz: ZoneInfo, today: dt.date) -> Plan:
    """What the message asks for, or HL7Error("AE", …) naming every problem found."""
    if header.message_type != "ADT":
        raise HL7Error(
            "AE", [("MSH-9", f"不支持的消息类型“{header.message_type}”（只接收 ADT）")], "200"
        )
    evn = message.first("EVN")
    event = header.event or (evn.get(1).upper() if evn else "")
    action = EVENTS.get(event)
    if action is None:
        supported = "、".join(EVENTS)
        raise HL7Error("AE", [("MSH-9", f"不支持的事件“{event}”（支持 {supported}）")], "201")
    plan = Plan(event=event, action=action, occurred_at=_evn_time(evn, tz))
    pid = message.first("PID")
    if pid is None:
        raise HL7Error("AE", [("PID", "缺少 PID 段")], "100")
    plan.patient_no, _id = _patient_ids(pid)
    if not plan.patient_no:
        raise HL7Error("AE", [("PID-3", "缺少患者 ID（病历号）")], "101")
    if action == MERGE:
        plan.merges = _merges(message)
        return plan
    pv1 = message.first("PV1")
    if pv1 is None:
        raise HL7Error("AE", [("PV1", "缺少 PV1 段")], "100")
    plan.visit_no = pv1.get(19)
    plan.visit_type = {"I": "inpatient", "O": "outpatient", "E": "emergency"}.get(
        pv1.get(2).upper(), ""
    )
    if action in (CANCEL_ADMIT, CANCEL_DISCHARGE):
        if not plan.visit_no or plan.visit_no == NULL:
            raise HL7Error("AE", [("PV1-19", "缺少就诊号（住院号/门诊号）")], "101")
        return plan
    plan.row, plan.staff_ids = _visit_row(message, pid, pv1, event, tz, today)
    if pid.get(30).upper() == "Y":
        plan.death_notice = True
        plan.death_at = _ts_or_none(pid.get(29), tz)
    return plan


def _evn_time(evn: Segment | None, tz) -> dt.datetime | None:
    if evn is None:
        return None
    return _ts_or_none(evn.get(6), tz) or _ts_or_none(evn.get(2), tz)


def _ts_or_none(value: str, tz) -> dt.datetime | None:
    if not value or value == NULL:
        return None
    try:
        return parse_ts(value, tz)
    except ValueError:
        return None


def _cx_ids(segment: Segment, n: int) -> tuple[str, str]:
    """(patient id, resident id number) from a CX list: the repetition typed ID/SFZ is the id
    number; the first other one (PI, MR, PT or untyped) is the hospital's patient id."""
    patient_no = id_number = ""
    for i in range(1, len(segment.repetitions(n)) + 1):
        value, kind = segment.get(n, 1, rep=i), segment.get(n, 5, rep=i).upper()
        if not value or value == NULL:
            continue
        if kind in ID_TYPES:
            id_number = id_number or value
        elif not patient_no:
            patient_no = value
    return patient_no, id_number


def _patient_ids(pid: Segment) -> tuple[str, str]:
    patient_no, id_number = _cx_ids(pid, 3)
    return patient_no, id_number


def _merges(message: Message) -> list[tuple[str, str]]:
    """A40 repeats the patient group: each PID is followed by the MRG naming its prior id."""
    pairs, survivor, problems = [], "", []
    for seg in message.segments:
        if seg.id == "PID":
            survivor = _cx_ids(seg, 3)[0]
        elif seg.id == "MRG":
            prior = _cx_ids(seg, 1)[0]
            if not prior:
                problems.append(("MRG-1", "缺少被合并患者的原患者 ID"))
            elif not survivor:
                problems.append(("PID-3", "MRG 段之前缺少存活患者的 PID 段"))
            else:
                pairs.append((survivor, prior))
    if not pairs and not problems:
        problems.append(("MRG", "A40 缺少 MRG 段"))
    if problems:
        raise HL7Error("AE", problems, "101")
    return pairs


def join_name(family: str, given: str) -> str:
    """CJK names are written family-then-given without a space (张三); others with one."""
    family, given = family.strip(), given.strip()
    if family and given:
        return family + given if _CJK.search(family + given) else f"{family} {given}"
    return family or given


def _xpn(segment: Segment, n: int) -> str:
    family = segment.get(n, 1)
    if family == NULL:
        return NULL
    return join_name(family, segment.get(n, 2))


def _xcn(segment: Segment, n: int) -> tuple[str, str]:
    """(name, id) of an XCN: XCN.1 is the staff number, XCN.2/3 family and given name."""
    staff_id = segment.get(n, 1)
    if staff_id == NULL:
        return NULL, ""
    return join_name(segment.get(n, 2), segment.get(n, 3)), staff_id


def _phones(pid: Segment) -> str | None:
    """PID-13 (home) and PID-14 (business) repetitions, ';'-joined for §9's phone column;
    None when neither field was sent."""
    sent = [n for n in (13, 14) if pid.raw(n)]
    if not sent:
        return None
    if all(pid.raw(n).strip() == NULL for n in sent):
        return NULL
    numbers = []
    for n in sent:
        for i in range(1, len(pid.repetitions(n)) + 1):
            if pid.get(n, 3, rep=i).upper() == "INTERNET" or pid.get(n, 2, rep=i).upper() == "NET":
                continue  # an e-mail address
            number = pid.get(n, 1, rep=i)
            if number == NULL:
                continue
            number = number or pid.get(n, 6, rep=i) + pid.get(n, 7, rep=i) or pid.get(n, 12, rep=i)
            if number:
                numbers.append(number)
    return ";".join(numbers)


def _address(pid: Segment) -> str | None:
    """XAD in Chinese order: province (XAD.4), city (.3), district (.9), street (.1, all its
    subcomponents), other designation (.2), each part once."""
    if not pid.raw(11):
        return None
    if pid.get(11, 1) == NULL:
        return NULL
    first = pid.repetitions(11)[0].split(pid.seps.component)[0]
    street = "".join(
        component_of(first, pid.seps, 1, s)
        for s in range(1, first.count(pid.seps.subcomponent) + 2)
    )
    # HIS often repeat the province and city inside the street line: keep each part once.
    head = []
    for part in (pid.get(11, 4), pid.get(11, 3), pid.get(11, 9)):
        if part and part not in street and part not in head:
            head.append(part)
    other = pid.get(11, 2)
    return "".join(head) + street + (other if other not in street else "")


def _diagnoses(message: Message) -> tuple[list[tuple[str, str]] | None, list[tuple[str, str]]]:
    """DG1 segments → [(code, text)], the principal one first: DG1-15 priority 1, else the
    first final diagnosis (DG1-6 "F"), else the first sent."""
    segments = message.all("DG1")
    if not segments:
        return None, []
    items, problems, principal, final = [], [], None, None
    for seg in segments:
        code, text = seg.get(3, 1), seg.get(3, 2) or seg.get(4)
        code = "" if code == NULL else code.upper()
        text = "" if text == NULL else text[:200]
        if not code and not text:
            continue
        if code and not ICD10.match(code):
            problems.append(("DG1-3", f"诊断编码：ICD-10 编码“{code}”格式不正确"))
        if principal is None and seg.get(15) == "1":
            principal = len(items)
        if final is None and seg.get(6).upper() == "F":
            final = len(items)
        items.append((code, text))
    first = principal if principal is not None else final
    if first:
        items.insert(0, items.pop(first))
    return items, problems


def _visit_row(message, pid, pv1, event, tz, today) -> tuple[VisitRow, dict]:
    problems: list[tuple[str, str]] = []
    raw: dict[str, str] = {}

    def put(column: str, value: str | None):
        # Absent (None or "") → not present; HL7 null '""' → present and empty (clears it).
        if value is None or value == "":
            return
        raw[column] = "" if value == NULL else value

    def put_ts(column: str, segment: Segment, n: int, date_only=False):
        value = segment.get(n)
        if not value or value == NULL:
            put(column, value)
            return
        try:
            ts = parse_ts(value, tz)
        except ValueError:
            problems.append(
                (f"{segment.id}-{n}", f"{LABELS[column]}：时间格式应为 YYYYMMDD[HHMM[SS]]")
            )
            return
        raw[column] = ts.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M:%S")

    patient_no, id_from_pid3 = _patient_ids(pid)
    raw["patient_no"] = patient_no
    raw["name"] = "" if _xpn(pid, 5) == NULL else _xpn(pid, 5)
    put_ts("birth_date", pid, 7, date_only=True)
    sex = pid.get(8)
    if sex and sex != NULL:
        code = SEX.get(sex.upper())
        if code is None:
            problems.append(("PID-8", f"性别：“{sex}”应为 M/F/U/O"))
        else:
            raw["sex"] = code
    else:
        put("sex", sex)
    put("address", _address(pid))
    put("phone", _phones(pid))
    put("id_number", id_from_pid3 or pid.get(19))

    patient_class = pv1.get(2) or {"A01": "I", "A04": "O"}.get(event, "")
    raw["visit_type"] = patient_class
    raw["visit_no"] = "" if pv1.get(19) == NULL else pv1.get(19)
    raw["department"] = "" if pv1.get(3) == NULL else pv1.get(3)
    doctor, doctor_id = _xcn(pv1, 7)
    put("attending_doctor", doctor or doctor_id)
    staff_ids = {"attending_doctor": doctor_id}
    for rol in message.all("ROL"):
        if rol.get(3, 1).upper() in NURSE_ROLES or "护士" in rol.get(3, 2):
            nurse, nurse_id = _xcn(rol, 4)
            put("responsible_nurse", nurse or nurse_id)
            staff_ids["responsible_nurse"] = nurse_id
            break
    readmission = pv1.get(13).upper()
    if readmission in ("R", "Y"):
        raw["first_visit"] = "否"
    elif readmission == "N":
        raw["first_visit"] = "是"
    disposition = pv1.get(36)
    put("disposition", disposition.lstrip("0") or disposition if disposition != NULL else NULL)
    inpatient = patient_class.upper() in ("I", "住院", "INPATIENT")
    put_ts("admitted_at" if inpatient else "visit_at", pv1, 44)
    put_ts("discharged_at", pv1, 45)
    put("total_cost", pv1.get(47))
    pv2 = message.first("PV2")
    if pv2 is not None and pv2.get(40):
        raw["chronic"] = "是" if pv2.get(40).upper() == "CH" else "否"

    diagnoses, diag_problems = _diagnoses(message)
    problems += diag_problems

    row, row_problems = parse_row(raw, tz, today)
    for p in row_problems:
        location = LOCATION.get(p.column, "")
        if p.column == "id_number" and id_from_pid3:
            location = "PID-3"
        problems.append((location, f"{LABELS.get(p.column, p.column)}：{p.reason}"))
    if problems:
        raise HL7Error("AE", problems, "103" if row_problems else "102")
    if diagnoses is not None:
        row.diagnoses = diagnoses
        row.present = row.present | {"diagnosis", "icd10"}
    return row, staff_ids
