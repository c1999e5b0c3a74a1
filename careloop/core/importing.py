"""The `careloop import KIND FILE` registry and the shared result/error report."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed_rows: set[int] = field(default_factory=set)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    def error(self, row: int, column: str, value: str, reason: str) -> None:
        self.errors.append(RowError(row, column, value, reason))
        self.failed_rows.add(row)

    @property
    def failed(self) -> int:
        return len(self.failed_rows)

    def summary(self) -> str:
        mode = "（试运行，未写入）" if self.dry_run else ""
        return f"新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}，失败 {self.failed} 行{mode}"

    def write_error_report(self, kind: str, directory: Path | None = None) -> Path:
        directory = directory or settings.VAR_DIR / "import-errors"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{kind}-{timezone.localtime():%Y%m%d-%H%M%S-%f}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["行号", "列", "值", "原因"])
            for e in sorted(self.errors, key=lambda e: (e.row, e.column)):
                writer.writerow([e.row, e.column, e.value, e.reason])
        return path


_IMPORTERS: dict[str, tuple[str, str]] = {}


def register_importer(kind: str, func_path: str, description: str) -> None:
    """``func(path, *, dry_run, strict, sheet) -> ImportResult``; raises TabularError for file errors."""
    _IMPORTERS[kind] = (func_path, description)


def importers() -> dict[str, tuple[str, str]]:
    return dict(sorted(_IMPORTERS.items()))
