"""P4.3: a HIS vendor's JSON rows, validated exactly like the file import (§9).

Each JSON row is turned into the ``raw`` text dict the file import reads and goes through the
same ``parse_row``; the rows are written by the same ``apply_rows``. A request is one batch:
every row is written or none is (S4), and every problem comes back in Chinese with the row
number and field (S5).

The DRF serializers below describe the payload for the OpenAPI schema; ``VisitBatch`` does the
work, because a §9 row's rules (and their Chinese messages) live in ``parse_row``, not here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers

from careloop.intake.rows import COLUMNS, LABELS, VisitRow, parse_row
from careloop.intake.upsert import Resolver, apply_rows
from careloop.patients.choices import Source

MAX_ROWS = 1000
# §9 calls the patient id column "patient_id"; the canonical name inside is "patient_no".
ALIASES = {"patient_id": "patient_no"}
ACCEPTED_FIELDS = frozenset([*ALIASES, *(c.name for c in COLUMNS)])
BOOL_COLUMNS = frozenset(
    ["first_visit", "cleared_out", "special", "chronic", "lost", "dispute", "refused"]
)
DATETIME_COLUMNS = frozenset(["admitted_at", "discharged_at", "visit_at"])
WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class RowError:
    row: int
    field: str | None
    value: str
    message: str

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "field": self.field,
            "label": LABELS.get(ALIASES.get(self.field or "", self.field or ""), ""),
            "value": self.value,
            "message": self.message,
        }


class WriteConflict(exceptions.APIException):
    status_code = 409
    default_detail = "与同时进行的另一次写入冲突，未写入任何数据，请重试"
    default_code = "conflict"


def _shown(value) -> str:
    """An offending value as text for the error list."""
    if isinstance(value, str):
        return value[:200]
    return json.dumps(value, ensure_ascii=False, default=str)[:200]


def _local_time(text: str, tz: ZoneInfo) -> str:
    """ISO 8601 as JSON clients send it ("…+08:00", "…Z", fractions of a second) in the local
    wall-clock form the §9 parser reads; anything else is left for ``parse_row`` to judge."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if value.tzinfo is not None:
        value = value.astimezone(tz)
    elif not value.microsecond:
        return text
    return value.strftime("%Y-%m-%d %H:%M:%S")


class VisitBatch:
    """One request's rows: either all parsed and written, or ``errors``/``detail`` say why not."""

    def __init__(self, payload):
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.today = timezone.localdate()
        self.rows: list[tuple[int, VisitRow]] = []
        self.errors: list[RowError] = []
        self.detail = ""
        self.outcomes: dict = {}
        items = self._items(payload)
        for number, item in enumerate(items, start=1):
            self._parse(number, item)
        self._check_duplicates()
        self._set_detail()

    @property
    def ok(self) -> bool:
        return not self.detail

    def _items(self, payload) -> list:
        if not isinstance(payload, dict):
            self.detail = '请求体应为 JSON 对象：{"rows": [...]}'
        elif "rows" not in payload:
            self.detail = '缺少 rows 字段：{"rows": [...]}'
        elif not isinstance(payload["rows"], list):
            self.detail = "rows 应为数组，每个元素是一行就诊记录"
        elif not payload["rows"]:
            self.detail = "rows 不能为空"
        elif len(payload["rows"]) > MAX_ROWS:
            self.detail = (
                f"一次最多提交 {MAX_ROWS} 行，本次 {len(payload['rows'])} 行，未写入任何数据"
            )
        else:
            return payload["rows"]
        return []

    def _parse(self, number: int, item) -> None:
        if not isinstance(item, dict):
            self.errors.append(RowError(number, None, _shown(item), "每一行应为 JSON 对象"))
            return
        raw, keys, structured, bad = self._raw(number, item)
        row, problems = parse_row(raw, self.tz, self.today)
        for p in problems:
            if p.column not in bad:  # a value already reported as the wrong type
                self.errors.append(
                    RowError(number, keys.get(p.column, p.column), p.value, p.reason)
                )
        if row is not None and not bad:
            if structured is not None:
                row.diagnoses = structured  # kept as pairs: a text may not line up with a code
            self.rows.append((number, row))

    def _raw(self, number, item):
        """The JSON row as §9 text, the client's name for each column, structured diagnoses."""
        raw: dict[str, str] = {}
        keys: dict[str, str] = {}
        bad: set[str] = set()
        structured = None

        def error(key, value, message):
            self.errors.append(RowError(number, key, _shown(value), message))
            bad.add(ALIASES.get(key, key))

        for key, value in item.items():
            column = ALIASES.get(key, key)
            if key not in ACCEPTED_FIELDS:
                error(key, value, "未知字段（可用字段见接口文档 /api/docs/）")
            elif column in keys:
                if raw.get(column) != _scalar(value):
                    error(key, value, f"与 {keys[column]} 只能填写一个")
            elif column == "phone" and isinstance(value, list):
                keys[column] = key
                if all(_scalar(v) is not None and not isinstance(v, bool) for v in value):
                    raw[column] = "; ".join(_scalar(v) for v in value)
                else:
                    error(key, value, "电话应为文本，或文本的列表")
            elif column == "diagnosis" and isinstance(value, list):
                keys[column] = key
                pairs = _diagnoses(value)
                if pairs is None:
                    error(key, value, "诊断应为文本，或由 {code, text} 对象组成的列表")
                    continue
                raw["diagnosis"] = ";".join(text for _code, text in pairs if text)
                if any(isinstance(v, dict) for v in value):
                    structured = [(code, text[:200]) for code, text in pairs]
                    raw["icd10"] = ";".join(code for code, _text in pairs if code)
            elif isinstance(value, bool) and column not in BOOL_COLUMNS:
                keys[column] = key
                error(key, value, "应为文本或数字")
            elif isinstance(value, bool):
                keys[column] = key
                raw[column] = "是" if value else "否"
            elif _scalar(value) is None:
                keys[column] = key
                error(key, value, "应为文本、数字或 null")
            else:
                keys[column] = key
                raw[column] = _scalar(value)
                if column in DATETIME_COLUMNS:
                    raw[column] = _local_time(raw[column], self.tz)
        if structured is not None:
            if "icd10" in keys:
                error(
                    keys["icd10"],
                    item[keys["icd10"]],
                    "诊断按 {code, text} 列表提交时，编码写在列表里",
                )
            keys["icd10"] = keys["diagnosis"]  # a bad code is reported where the client wrote it
        return raw, keys, structured, bad

    def _check_duplicates(self) -> None:
        # apply_rows takes each visit once per batch; two rows for one visit would be ambiguous.
        seen: dict[tuple[str, str], int] = {}
        unique = []
        for number, row in self.rows:
            first = seen.setdefault((row.visit_type, row.visit_no), number)
            if first != number:
                self.errors.append(
                    RowError(
                        number, "visit_no", row.visit_no, f"与第 {first} 行是同一就诊，请合并为一行"
                    )
                )
            else:
                unique.append((number, row))
        self.rows = unique

    def _set_detail(self) -> None:
        if not self.errors:
            return
        numbers = sorted({e.row for e in self.errors})
        shown = "、".join(str(n) for n in numbers[:5])
        more = f" 等 {len(numbers)} 行" if len(numbers) > 5 else " 行"
        self.detail = f"第 {shown}{more}有错误，未写入任何数据"

    def write(self) -> bool:
        """Apply every row in one transaction (S4); False, and nothing written, if any row fails.

        The rows that parsed are applied even when others did not, then rolled back: an unknown
        department is only found by ``apply_rows``, and the client should learn of every bad row
        at once. The caller's transaction wraps this one so that its audit event commits with
        the data."""
        if not self.rows:
            return False
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    outcomes = apply_rows(self.rows, Source.API, Resolver())
                    for number, outcome in sorted(outcomes.items()):
                        if outcome.status == "failed":
                            self.errors.extend(
                                RowError(number, column, value, reason)
                                for column, value, reason in outcome.problems
                            )
                    if self.errors:
                        transaction.set_rollback(True)
                        self._set_detail()
                        return False
                self.outcomes = outcomes
                return True
            except IntegrityError:
                # Another push created the same new patient or visit a moment ago; the upsert is
                # idempotent, so running again updates what that one created.
                if attempt == WRITE_ATTEMPTS:
                    raise WriteConflict from None
        return False  # pragma: no cover

    def rejection(self) -> dict:
        body: dict = {"detail": self.detail}
        if self.errors:
            body["errors"] = [e.as_dict() for e in sorted(self.errors, key=lambda e: e.row)]
        return body

    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for outcome in self.outcomes.values():
            counts[outcome.status] += 1
        return counts

    def result(self) -> dict:
        return {
            **self.counts(),
            "results": [
                {"row": number, "status": o.status, "visit_id": o.visit_id}
                for number, o in sorted(self.outcomes.items())
            ],
        }

    def summary(self) -> str:
        c = self.counts()
        return f"{len(self.outcomes)} 行：新增 {c['created']}，更新 {c['updated']}，未变 {c['unchanged']}"


def _scalar(value) -> str | None:
    """JSON scalars as §9 text: null is an empty cell; arrays and objects are not scalars."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _diagnoses(items: list) -> list[tuple[str, str]] | None:
    """Texts, or {code, text} objects (the first is the principal diagnosis); None if malformed."""
    pairs = []
    for entry in items:
        if isinstance(entry, str):
            pairs.append(("", entry.strip()))
        elif (
            isinstance(entry, dict)
            and entry
            and set(entry) <= {"code", "text"}
            and all(v is None or isinstance(v, str) for v in entry.values())
        ):
            pairs.append(
                ((entry.get("code") or "").strip().upper(), (entry.get("text") or "").strip())
            )
        else:
            return None
    return [(code, text) for code, text in pairs if code or text]


# --- OpenAPI description of the payload (drf-spectacular) ------------------------------------

YES_NO = {
    "oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["是", "否"]}],
    "description": "true/false 或 是/否；不提交则保留原值",
}


@extend_schema_field(YES_NO)
class YesNoField(serializers.Field):
    pass


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
)
class PhoneField(serializers.Field):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "example": "I21.9"},
                        "text": {"type": "string", "example": "急性心肌梗死"},
                    },
                },
            },
        ]
    }
)
class DiagnosisField(serializers.Field):
    pass


def _text(help_text, **kwargs):
    return serializers.CharField(required=False, allow_null=True, help_text=help_text, **kwargs)


class VisitRowSerializer(serializers.Serializer):
    """§9 的一行。未提交的字段保留原值；null 或空字符串表示清空（必填字段除外）。"""

    patient_id = _text("病历号/ID号，必填（也可写作 patient_no）")
    patient_no = _text("patient_id 的别名")
    name = _text("姓名，必填")
    sex = _text("性别：男/女/未知，或 GB/T 2261.1 代码 0/1/2/9")
    birth_date = _text("出生日期 YYYY-MM-DD")
    age = _text("年龄（无出生日期时按年龄估算出生年份）")
    phone = PhoneField(required=False, help_text="联系电话：一个，或多个（列表，或以 ; / , 分隔）")
    id_number = _text("身份证号")
    address = _text("家庭住址")
    visit_type = _text("就诊类型：住院/门诊/急诊（inpatient/outpatient/emergency），必填")
    visit_no = _text("住院号/门诊号，必填；与就诊类型一起唯一确定一次就诊")
    department = _text("科室编码或名称，必填；须为已有科室")
    first_visit = YesNoField(required=False, help_text="初诊")
    admitted_at = _text("入院时间 YYYY-MM-DD HH:MM 或 ISO 8601（住院必填）")
    discharged_at = _text("出院时间（住院）；不得早于入院时间")
    visit_at = _text("就诊时间（门急诊必填）")
    diagnosis = DiagnosisField(
        required=False,
        help_text="诊断：文本（多个以 ; 分隔），或 {code, text} 列表，第一项为主要诊断",
    )
    icd10 = _text("诊断编码（ICD-10），多个以 ; 分隔，与诊断文本按顺序对应")
    disposition = _text(
        "离院方式：1 医嘱离院、2 医嘱转院、3 医嘱转社区/乡镇卫生院、4 非医嘱离院、5 死亡、9 其他"
    )
    cleared_out = YesNoField(required=False, help_text="欠费清理/拒不出院")
    attending_doctor = _text("主管医生：姓名或工号")
    responsible_nurse = _text("责任护士：姓名或工号")
    total_cost = _text("总费用（元）")
    special = YesNoField(required=False, help_text="特殊病人")
    chronic = YesNoField(required=False, help_text="慢病")
    lost = YesNoField(required=False, help_text="流失（门诊）")
    dispute = YesNoField(required=False, help_text="医疗纠纷未处理")
    refused = YesNoField(required=False, help_text="拒访")


class VisitUpsertRequestSerializer(serializers.Serializer):
    rows = VisitRowSerializer(many=True, help_text=f"1–{MAX_ROWS} 行；全部成功才写入")


class RowResultSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="请求中的行号，从 1 开始")
    status = serializers.ChoiceField(
        choices=[("created", "新增"), ("updated", "更新"), ("unchanged", "未变")]
    )
    visit_id = serializers.IntegerField()


class VisitUpsertResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    results = RowResultSerializer(many=True)


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="请求中的行号，从 1 开始")
    field = serializers.CharField(allow_null=True, help_text="字段名（整行有误时为 null）")
    label = serializers.CharField(help_text="字段的中文名")
    value = serializers.CharField()
    message = serializers.CharField(help_text="错误原因（中文）")


class VisitUpsertRejectedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = RowErrorSerializer(many=True, required=False)
