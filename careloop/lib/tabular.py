"""Reading HIS exports: .csv (UTF-8 or GB18030) and .xlsx, with Chinese or English headers.

Streams rows (a 200k-row file is never loaded whole) and maps headers to canonical field names
case-insensitively. Framework-free: the importers decide what a row means.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


class TabularError(Exception):
    """The file as a whole cannot be read (message in Chinese, says what and where)."""


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...]
    required: bool = False
    label: str = ""

    @property
    def display(self) -> str:
        return self.label or self.aliases[0]


def _key(header: str) -> str:
    return re.sub(r"[\s_\-/（）()]+", "", str(header)).lower()


@dataclass
class HeaderMap:
    columns: list[Column]
    headers: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)  # canonical name → column position
    unknown: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, columns: list[Column], headers: list[str]) -> HeaderMap:
        lookup = {}
        for col in columns:
            for alias in (col.name, *col.aliases):
                lookup[_key(alias)] = col.name
        hm = cls(columns, headers=list(headers))
        for pos, header in enumerate(headers):
            if header is None or str(header).strip() == "":
                continue
            name = lookup.get(_key(header))
            if name is None:
                hm.unknown.append(str(header))
            elif name not in hm.index:
                hm.index[name] = pos
        return hm

    def header_of(self, name: str) -> str:
        """The file's own header text for a canonical column (e.g. 住院号 for visit_no)."""
        return self.headers[self.index[name]] if name in self.index else ""

    def missing_required(self) -> list[Column]:
        return [c for c in self.columns if c.required and c.name not in self.index]

    def row(self, values: list) -> dict[str, str]:
        return {
            name: cell_text(values[pos]) if pos < len(values) else ""
            for name, pos in self.index.items()
        }


def cell_text(value) -> str:
    """Normalise a cell to text: 101.0 → "101", datetimes to ISO, None → ""."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M:%S")
            if (value.hour, value.minute, value.second) != (0, 0, 0)
            else value.strftime("%Y-%m-%d")
        )
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    return str(value).strip()


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the bytes decode as UTF-8, otherwise GB18030."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # Cut at a line end so a multi-byte character split by the read does not look invalid.
    cut = head.rfind(b"\n")
    sample = head if cut < 0 or len(head) < (1 << 20) else head[: cut + 1]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def iter_raw_rows(path: str | Path, sheet: str | None = None) -> Iterator[list]:
    """Yield every row (header first) as a list of cell values."""
    path = Path(path)
    if not path.exists():
        raise TabularError(f"文件不存在：{path}")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        encoding = detect_encoding(path)
        try:
            with open(path, encoding=encoding, newline="") as fh:
                yield from csv.reader(fh)
        except UnicodeDecodeError as exc:
            raise TabularError(
                f"文件编码无法识别（既不是 UTF-8 也不是 GB18030）：{path.name}"
            ) from exc
        return
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # calamine raises its own error types for broken files
            raise TabularError(f"无法读取 Excel 文件 {path.name}：{exc}") from exc
        names = book.sheet_names
        if sheet is not None and sheet not in names:
            raise TabularError(f"Excel 文件中没有名为“{sheet}”的工作表（现有：{'、'.join(names)}）")
        ws = book.get_sheet_by_name(sheet or names[0])
        yield from ws.iter_rows()
        return
    raise TabularError(f"不支持的文件类型“{suffix}”：请使用 .csv 或 .xlsx")


def count_data_rows(path: str | Path, sheet: str | None = None) -> int:
    """A quick row count for progress bars (may include blank rows)."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".txt"):
        lines, last = 0, b"\n"
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        # Lines minus the header; a last line without a newline still counts.
        return max(lines + (last != b"\n") - 1, 0)
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        ws = book.get_sheet_by_name(sheet or book.sheet_names[0])
    except Exception as exc:  # calamine raises its own error types for broken files
        raise TabularError(f"无法读取 Excel 文件 {path.name}：{exc}") from exc
    return max(ws.height - 1, 0)


def read_table(
    path: str | Path, columns: list[Column], sheet: str | None = None
) -> tuple[HeaderMap, Iterator[tuple[int, dict[str, str]]]]:
    """Return the header map and an iterator of (spreadsheet row number, {field: text}).

    Row numbers are as the user sees them in Excel: the header is row 1. Blank rows are skipped.
    """
    rows = iter_raw_rows(path, sheet)
    try:
        headers = next(rows)
    except StopIteration:
        raise TabularError("文件是空的：没有表头行") from None
    hm = HeaderMap.build(columns, [cell_text(h) for h in headers])
    missing = hm.missing_required()
    if missing:
        names = "、".join(f"{c.display}（{c.name}）" for c in missing)
        raise TabularError(f"缺少必需的列：{names}")

    def body():
        for number, values in enumerate(rows, start=2):
            if all(cell_text(v) == "" for v in values):
                continue
            yield number, hm.row(values)

    return hm, body()
