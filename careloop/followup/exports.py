"""The follow-up task export (F7, S3): one column definition for the web page and the command.

The first ten headers are a fixed interface (other systems read them); keep them in order and
append new columns after them. Rows come from ``values()`` so a million tasks stream without
building model instances.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import xlsxwriter


def _date(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else ""


def _assignee(row) -> str:
    return row["assignee__staff_no"] or row["assignee__username"] or ""


@dataclass(frozen=True)
class Column:
    header: str
    fields: tuple[str, ...]
    value: Callable[[dict], object]


def _field(name: str, fmt: Callable = lambda v: "" if v is None else v) -> Column:
    return Column(name, (name,), lambda row: fmt(row[name]))


def _path(header: str, path: str, fmt: Callable = lambda v: "" if v is None else v) -> Column:
    return Column(header, (path,), lambda row: fmt(row[path]))


TASK_COLUMNS: list[Column] = [
    _path("patient_id", "patient__patient_no"),
    _path("visit_no", "visit__visit_no"),
    _path("policy", "policy__slug"),
    _path("stage", "stage__code"),
    _field("channel"),
    _field("assignee_role"),
    _field("window_start", _date),
    _field("window_end", _date),
    _field("status"),
    _field("exclusion"),
    _path("department", "department__code"),
    Column("assignee", ("assignee__staff_no", "assignee__username"), _assignee),
    _field("sequence"),
    _path("task_id", "id"),
]
HEADERS = [c.header for c in TASK_COLUMNS]
SHEET = "回访任务"


def task_values(queryset):
    """The queryset reduced to exactly the fields the columns read."""
    fields = list(dict.fromkeys(f for c in TASK_COLUMNS for f in c.fields))
    return queryset.order_by("window_start", "pk").values(*fields)


def web_columns() -> list[tuple[str, Callable]]:
    """``TASK_COLUMNS`` in the shape ``careloop.core.exports.audited_export`` takes."""
    return [(c.header, c.value) for c in TASK_COLUMNS]


def task_rows(queryset, chunk_size: int = 5000) -> Iterator[list]:
    for row in task_values(queryset).iterator(chunk_size=chunk_size):
        yield [c.value(row) for c in TASK_COLUMNS]


def write_csv(stream, rows: Iterable[list], *, bom: bool = False) -> int:
    if bom:
        stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow(HEADERS)
    count = 0
    for count, row in enumerate(rows, start=1):  # noqa: B007 - the count is the result
        writer.writerow(row)
    return count


def write_xlsx(path, rows: Iterable[list]) -> int:
    """Constant memory: xlsxwriter flushes each row to a temp file as it is written."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet(SHEET)
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    ws.set_column(0, len(HEADERS) - 1, 14)
    ws.write_row(0, 0, HEADERS, bold)
    ws.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(rows, start=1):
        ws.write_row(count, 0, row)
    book.close()
    return count
