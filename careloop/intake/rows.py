"""§9: one HIS row (file, API or HL7) parsed into plain values, with every problem named.

Pure functions: text in, a ``VisitRow`` or a list of ``FieldProblem`` out. Department and staff
are resolved later against the database (``upsert``); here they stay text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from careloop.lib.masking import (
    mask_address,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)
from careloop.lib.tabular import Column

COLUMNS = [
    Column(
        "patient_no", ("病历号", "ID号", "patient_id", "patient_no"), required=True, label="病历号"
    ),
    Column("name", ("姓名", "name"), required=True, label="姓名"),
    Column("sex", ("性别", "sex"), label="性别"),
    Column("birth_date", ("出生日期", "birth_date", "birthday"), label="出生日期"),
    Column("age", ("年龄", "age"), label="年龄"),
    Column("phone", ("联系电话", "电话", "phone"), label="联系电话"),
    Column("id_number", ("身份证号", "id_number"), label="身份证号"),
    Column("address", ("家庭住址", "住址", "address"), label="家庭住址"),
    Column("visit_type", ("就诊类型", "visit_type"), label="就诊类型"),
    Column(
        "visit_no",
        ("住院号", "门诊号", "住院号/门诊号", "visit_no"),
        required=True,
        label="住院号/门诊号",
    ),
    Column("department", ("科室", "department"), label="科室"),
    Column("first_visit", ("初诊", "first_visit"), label="初诊"),
    Column("admitted_at", ("入院时间", "admitted_at"), label="入院时间"),
    Column("discharged_at", ("出院时间", "discharged_at"), label="出院时间"),
    Column("visit_at", ("就诊时间", "visit_at"), label="就诊时间"),
    Column("diagnosis", ("出院诊断", "诊断", "diagnosis"), label="诊断"),
    Column("icd10", ("诊断编码", "icd10", "icd"), label="诊断编码"),
    Column("disposition", ("离院方式", "disposition"), label="离院方式"),
    Column("cleared_out", ("欠费清理", "cleared_out"), label="欠费清理"),
    Column("attending_doctor", ("主管医生", "attending_doctor"), label="主管医生"),
    Column("responsible_nurse", ("责任护士", "responsible_nurse"), label="责任护士"),
    Column("total_cost", ("总费用", "total_cost"), label="总费用"),
    Column("special", ("特殊病人", "special"), label="特殊病人"),
    Column("chronic", ("慢病", "chronic"), label="慢病"),
    Column("lost", ("流失", "lost"), label="流失"),
    Column("dispute", ("医疗纠纷", "dispute"), label="医疗纠纷"),
    Column("refused", ("拒访", "refused"), label="拒访"),
]
LABELS = {c.name: c.label for c in COLUMNS}

SEX = {
    "男": "1", "女": "2", "未知": "0", "未说明": "9", "0": "0", "1": "1", "2": "2", "9": "9",
    "m": "1", "male": "1", "f": "2", "female": "2", "u": "0", "unknown": "0",
}  # fmt: skip
VISIT_TYPE = {
    "住院": "inpatient", "门诊": "outpatient", "急诊": "emergency",
    "inpatient": "inpatient", "outpatient": "outpatient", "emergency": "emergency",
    "i": "inpatient", "o": "outpatient", "e": "emergency",
}  # fmt: skip
DISPOSITION = {
    "1": "1", "2": "2", "3": "3", "4": "4", "5": "5", "9": "9",
    "医嘱离院": "1", "医嘱转院": "2", "医嘱转社区/乡镇卫生院": "3", "医嘱转社区": "3",
    "医嘱转乡镇卫生院": "3", "非医嘱离院": "4", "死亡": "5", "其他": "9",
}  # fmt: skip
YES = {"是", "y", "yes", "true", "1", "有", "√"}
NO = {"否", "n", "no", "false", "0", "无", ""}
# ICD-10 and China's national clinical version (国临版 2.0), e.g. I10.x00x002, K35.800x001.
ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Za-z]{1,12})?$")
PHONE_SPLIT = re.compile(r"[;；/,，、]+")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
)  # fmt: skip
# HL7-style compact times: strptime would read "202405010830" with %S as 08:03:00, so the
# format is chosen by the number of digits.
COMPACT_FORMATS = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M", 8: "%Y%m%d"}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class FieldProblem:
    column: str  # canonical name; LABELS gives the Chinese header
    value: str
    reason: str


@dataclass
class VisitRow:
    patient_no: str
    name: str
    visit_type: str
    visit_no: str
    department: str = ""
    sex: str = "0"
    birth_date: dt.date | None = None
    birth_date_estimated: bool = False
    phones: list[str] = field(default_factory=list)
    id_number: str = ""
    address: str = ""
    first_visit: bool = False
    admitted_at: dt.datetime | None = None
    discharged_at: dt.datetime | None = None
    visit_at: dt.datetime | None = None
    diagnoses: list[tuple[str, str]] = field(default_factory=list)  # (code, text), principal first
    disposition: str = ""
    cleared_out: bool = False
    attending_doctor: str = ""
    responsible_nurse: str = ""
    total_cost: Decimal | None = None
    special: bool = False
    chronic: bool = False
    lost: bool = False
    dispute: bool = False
    refused: bool = False
    present: frozenset[str] = (
        frozenset()
    )  # columns the source supplied (absent ones keep old values)


def parse_date(text: str) -> dt.date:
    value = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    # An xlsx date cell arrives as "YYYY-MM-DD HH:MM:SS" when it carries a time of 00:00.
    return parse_datetime(value, ZoneInfo("UTC")).date()


def parse_datetime(text: str, tz: ZoneInfo) -> dt.datetime:
    value = text.strip()
    if value.isdigit():
        if len(value) not in COMPACT_FORMATS:
            raise ValueError(value)
        return dt.datetime.strptime(value, COMPACT_FORMATS[len(value)]).replace(tzinfo=tz)
    for fmt in DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(value)


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(value)


def valid_id_number(value: str) -> bool:
    """GB 11643: 18 characters with the ISO 7064 check character, or the old 15 digits."""
    if re.fullmatch(r"\d{15}", value):
        return True
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def masked_value(column: str, value: str) -> str:
    """P3: a rejected value as the error report may show it (the row number finds the original)."""
    if column == "phone":
        return re.sub(r"\d{7,}", lambda m: mask_phone(m.group()), value)
    if column == "id_number":
        return mask_id_number(value) if len(value) > 8 else "*" * len(value)
    if column == "address":
        return mask_address(value)
    return value


def split_phones(text: str) -> list[str]:
    """§9: numbers separated by ; / , or spaces — but "+86 139 0000 1111" is one number."""
    numbers = []
    for piece in PHONE_SPLIT.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if 7 <= len(normalize_phone(piece)) <= 12:
            numbers.append(piece)
        else:
            numbers.extend(piece.split())
    return numbers


def parse_row(
    raw: dict[str, str], tz: ZoneInfo, today: dt.date, inferred_type: str = ""
) -> tuple[VisitRow | None, list[FieldProblem]]:
    """Parse one row keyed by canonical column names. ``inferred_type`` comes from the header
    (a 住院号 column means inpatient, 门诊号 outpatient) when there is no 就诊类型 column."""
    problems: list[FieldProblem] = []

    def problem(column, reason):
        problems.append(FieldProblem(column, raw.get(column, ""), reason))

    def text(column, limit=None):
        value = (raw.get(column) or "").strip()
        if limit and len(value) > limit:
            problem(column, f"不能超过 {limit} 个字符")
            return value[:limit]
        return value

    patient_no, name, visit_no = text("patient_no", 64), text("name", 64), text("visit_no", 64)
    for column, value in (("patient_no", patient_no), ("name", name), ("visit_no", visit_no)):
        if not value:
            problem(column, "不能为空")

    visit_type = inferred_type
    if text("visit_type"):
        visit_type = VISIT_TYPE.get(text("visit_type").lower(), "")
        if not visit_type:
            problem("visit_type", "应为 住院、门诊 或 急诊")
    elif not visit_type:
        problem("visit_type", "缺少就诊类型（住院/门诊/急诊）")

    row = VisitRow(patient_no=patient_no, name=name, visit_type=visit_type, visit_no=visit_no)
    row.present = frozenset(k for k in raw if k in LABELS)
    row.department = text("department", 64)
    if not row.department:
        problem("department", "不能为空")

    if text("sex"):
        row.sex = SEX.get(text("sex").lower(), "")
        if not row.sex:
            problem("sex", "应为 男、女、未知，或 GB/T 2261.1 代码 0/1/2/9")
    if text("birth_date"):
        try:
            row.birth_date = parse_date(text("birth_date"))
            if row.birth_date > today or row.birth_date.year < 1880:
                problem("birth_date", "出生日期不合理")
        except ValueError:
            problem("birth_date", "日期格式应为 YYYY-MM-DD")
    elif text("age"):
        try:
            age = int(Decimal(text("age").removesuffix("岁")))
            if not 0 <= age <= 130:
                raise ValueError
            row.birth_date = dt.date(today.year - age, 7, 1)
            row.birth_date_estimated = True
            row.present = row.present | {"birth_date"}
        except (ValueError, InvalidOperation):
            problem("age", "年龄应为 0–130 的整数")

    for number in split_phones(text("phone")):
        digits = normalize_phone(number)
        if not 7 <= len(digits) <= 12:
            problem("phone", f"电话号码“{number}”位数不对")
        elif digits not in row.phones:
            row.phones.append(digits)

    if text("id_number"):
        row.id_number = normalize_id_number(text("id_number"))
        if not valid_id_number(row.id_number):
            problem("id_number", "身份证号格式或校验位不正确")
    row.address = text("address", 200)

    tz_fields = {"admitted_at": None, "discharged_at": None, "visit_at": None}
    for column in tz_fields:
        if text(column):
            try:
                setattr(row, column, parse_datetime(text(column), tz))
            except ValueError:
                problem(column, "时间格式应为 YYYY-MM-DD HH:MM")
    if row.visit_type == "inpatient":
        if row.admitted_at is None and "admitted_at" not in {p.column for p in problems}:
            problem("admitted_at", "住院病人必须有入院时间")
        if row.admitted_at and row.discharged_at and row.discharged_at < row.admitted_at:
            problem("discharged_at", "出院时间早于入院时间")
    elif (
        row.visit_type in ("outpatient", "emergency")
        and row.visit_at is None
        and "visit_at" not in {p.column for p in problems}
    ):
        problem("visit_at", "门急诊必须有就诊时间")

    texts = [t.strip() for t in re.split(r"[;；]", text("diagnosis")) if t.strip()]
    codes = [
        c.strip()[:1].upper() + c.strip()[1:]
        for c in re.split(r"[;；,，\s]+", text("icd10"))
        if c.strip()
    ]
    for code in codes:
        if not ICD10.match(code):
            problem("icd10", f"ICD-10 编码“{code}”格式不正确")
    for i in range(max(len(texts), len(codes))):
        row.diagnoses.append(
            (codes[i] if i < len(codes) else "", texts[i][:200] if i < len(texts) else "")
        )

    if text("disposition"):
        row.disposition = DISPOSITION.get(text("disposition"), "")
        if not row.disposition:
            problem("disposition", "离院方式应为代码 1–5、9 或其名称")

    for column in (
        "first_visit",
        "cleared_out",
        "special",
        "chronic",
        "lost",
        "dispute",
        "refused",
    ):
        try:
            setattr(row, column, parse_bool(raw.get(column, "")))
        except ValueError:
            problem(column, "应为 是 或 否")
    row.attending_doctor = text("attending_doctor", 64)
    row.responsible_nurse = text("responsible_nurse", 64)
    if text("total_cost"):
        try:
            row.total_cost = Decimal(
                text("total_cost").replace(",", "").removesuffix("元")
            ).quantize(Decimal("0.01"))
            if row.total_cost < 0 or row.total_cost >= Decimal("1e10"):
                raise InvalidOperation
        except InvalidOperation:
            problem("total_cost", "总费用应为不小于 0 的金额（元）")
    return (None if problems else row), problems
