"""F6: loading the official calendar (the State Council's schedule, published every November)
from a CSV file: one line per day that differs from the plain weekend rule.

Columns: date, workday (yes/no, 是/否, 班/休, …), name; with or without a header row, English or
Chinese headers, UTF-8 (with or without BOM) or GBK. Every line is checked before anything is
written; one bad line and nothing is written, and every problem is reported with its line,
column and value in Chinese (S5). A good file is written in one transaction (S4).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.calendars.choices import DaySource
from careloop.calendars.models import CalendarDay, CalendarYear

NAME_MAX = CalendarDay._meta.get_field("name").max_length

HEADERS = {
    "date": {"date", "day", "日期"},
    "workday": {"workday", "isworkday", "work", "是否工作日", "工作日", "是否上班"},
    "name": {"name", "holiday", "note", "名称", "节日", "节假日", "说明", "备注"},
}
WORKDAY_VALUES = {
    **dict.fromkeys(("yes", "y", "是", "1", "true", "班", "工作日", "上班"), True),
    **dict.fromkeys(("no", "n", "否", "0", "false", "休", "休息日", "休息", "放假"), False),
}
_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")


@dataclass(frozen=True)
class LineError:
    line: int  # 0: the file as a whole
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        if not self.line:
            return _("文件：%(reason)s") % {"reason": self.reason}
        return _("第 %(line)d 行，“%(column)s”列，值“%(value)s”：%(reason)s") % {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Row:
    line: int
    date: dt.date
    is_workday: bool
    name: str


@dataclass
class LoadResult:
    errors: list[LineError] = field(default_factory=list)
    years: dict[int, int] = field(default_factory=dict)  # year → rows loaded
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if not self.ok:
            return _("日历文件有 %(n)d 处错误，未载入任何数据。") % {"n": len(self.errors)}
        years = "、".join(
            _("%(year)d 年 %(days)d 天") % {"year": y, "days": n}
            for y, n in sorted(self.years.items())
        )
        return _("已载入官方日历：%(years)s（新增 %(c)d，更新 %(u)d，未变 %(s)d）。") % {
            "years": years,
            "c": self.created,
            "u": self.updated,
            "s": self.unchanged,
        }


def _column_labels() -> dict[str, str]:
    return {"date": _("日期"), "workday": _("是否工作日"), "name": _("名称")}


def _header_key(cell: str) -> str:
    return re.sub(r"[\s_\-/（）()]+", "", cell).lower()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # GB18030 is a superset of GBK: Excel on a Chinese Windows saves CSV in GBK.
        return data.decode("gb18030")


def _read_text(source) -> tuple[str, str]:
    """(text, name) of a path, raw bytes, an uploaded file, or the text itself."""
    if isinstance(source, bytes):
        return _decode(source), ""
    if hasattr(source, "read"):
        data = source.read()
        name = Path(getattr(source, "name", "") or "").name
        return (_decode(data) if isinstance(data, bytes) else data), name
    if isinstance(source, str) and ("\n" in source or "," in source):
        return source, ""
    path = Path(source)
    return _decode(path.read_bytes()), path.name


def parse_date(text: str) -> dt.date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
    except ValueError:
        return None


def parse_workday(text: str) -> bool | None:
    return WORKDAY_VALUES.get(text.strip().lower())


def _cell(cells: list[str], pos: int | None) -> str:
    return cells[pos] if pos is not None and pos < len(cells) else ""


def parse_rows(text: str) -> tuple[list[Row], list[LineError]]:
    """Every row of the file, and every problem; pure (no database)."""
    labels = _column_labels()
    rows: list[Row] = []
    errors: list[LineError] = []
    seen: dict[dt.date, int] = {}
    positions = {"date": 0, "workday": 1, "name": 2}
    first = True
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(LineError(reader.line_num, "", "", _("无法解析：%(e)s") % {"e": exc}))
            break
        line = reader.line_num
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        # A first line with no date in it is a header (its cells may read like values: 工作日).
        if first and not any(parse_date(c) for c in cells):
            first = False
            keys = [_header_key(c) for c in cells]
            found = {
                col: keys.index(k) for col, aliases in HEADERS.items() for k in keys if k in aliases
            }
            if found:
                missing = [labels[c] for c in ("date", "workday") if c not in found]
                if missing:
                    errors.append(
                        LineError(
                            line,
                            "、".join(missing),
                            ",".join(cells),
                            _(
                                "表头缺少必需的列（应为：日期,是否工作日,名称 或 date,workday,name）"
                            ),
                        )
                    )
                    return [], errors
                positions = {"name": None, **found}
                continue
        first = False
        raw_date, raw_work, name = (
            _cell(cells, positions.get(c)) for c in ("date", "workday", "name")
        )
        day = parse_date(raw_date)
        work = parse_workday(raw_work)
        problems = len(errors)
        if day is None:
            errors.append(
                LineError(
                    line,
                    labels["date"],
                    raw_date,
                    _("不是有效的日期（应为 YYYY-MM-DD 或 YYYY/M/D，如 2027-10-01）")
                    if raw_date
                    else _("日期不能为空"),
                )
            )
        elif day in seen:
            errors.append(
                LineError(
                    line,
                    labels["date"],
                    raw_date,
                    _("与第 %(line)d 行的日期重复") % {"line": seen[day]},
                )
            )
        if work is None:
            errors.append(
                LineError(
                    line,
                    labels["workday"],
                    raw_work,
                    _("无法识别是否工作日（应为 是/否、班/休、yes/no、1/0 等）")
                    if raw_work
                    else _("是否工作日不能为空"),
                )
            )
        if len(name) > NAME_MAX:
            errors.append(
                LineError(
                    line,
                    labels["name"],
                    name,
                    _("名称不能超过 %(n)d 个字") % {"n": NAME_MAX},
                )
            )
        if len(errors) == problems:
            seen[day] = line
            rows.append(Row(line=line, date=day, is_workday=work, name=name))
    if not rows and not errors:
        errors.append(LineError(0, "", "", _("文件中没有任何日期行。")))
    return rows, errors


def load_calendar(path_or_text, *, by=None, source_name: str = "") -> LoadResult:
    """F6: validate the whole file, then upsert every day (source official) and mark each year
    present as loaded, all in one transaction; one bad line and nothing is written (S4, S5)."""
    result = LoadResult()
    try:
        text, file_name = _read_text(path_or_text)
    except FileNotFoundError:
        result.errors.append(LineError(0, "", "", _("找不到文件“%(p)s”。") % {"p": path_or_text}))
        return result
    except (OSError, UnicodeDecodeError):
        result.errors.append(
            LineError(0, "", "", _("无法读取文件：请保存为 UTF-8 或 GBK 编码的 CSV 文件。"))
        )
        return result
    source_name = (source_name or file_name)[:200]
    rows, errors = parse_rows(text)
    if errors:
        result.errors = errors
        return result
    for row in rows:
        result.years[row.date.year] = result.years.get(row.date.year, 0) + 1
    now = timezone.now()
    with transaction.atomic():
        existing = {
            d.date: d
            for d in CalendarDay.objects.select_for_update().filter(date__in=[r.date for r in rows])
        }
        for row in rows:
            # One save per day, never a bulk write: the audit trail logs each change (S2).
            day = existing.get(row.date)
            if day is None:
                day = CalendarDay(date=row.date)
                result.created += 1
            elif (day.is_workday, day.name, day.source) == (
                row.is_workday,
                row.name,
                DaySource.OFFICIAL,
            ):
                result.unchanged += 1
                continue
            else:
                result.updated += 1
            day.is_workday, day.name, day.source = row.is_workday, row.name, DaySource.OFFICIAL
            day.updated_at, day.updated_by = now, by
            day.save()
        for year, count in sorted(result.years.items()):
            marker = CalendarYear.objects.filter(year=year).first() or CalendarYear(year=year)
            marker.loaded_at, marker.loaded_by = now, by
            marker.source_name, marker.days = source_name, count
            marker.save()
        record_event(
            Action.IMPORT,
            actor=by,
            object_type=CalendarYear._meta.label_lower,
            object_id=",".join(str(y) for y in sorted(result.years)),
            object_repr=_("官方工作日历 %(f)s") % {"f": source_name or "-"},
            message=result.summary(),
        )
    return result
