"""P4.1: file import of patients and visits (§9), streamed in batches.

Each batch is written in one transaction together with the run's progress counters: a process
killed at any moment leaves the database as it was before that batch, and running the same file
again reaches exactly the state of an uninterrupted run (the upsert is idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.core.importing import ImportResult
from careloop.intake.choices import RunStatus
from careloop.intake.models import ImportRun
from careloop.intake.rows import COLUMNS, LABELS, masked_value, parse_row
from careloop.intake.upsert import Resolver, apply_rows
from careloop.lib.tabular import count_data_rows, read_table
from careloop.patients.choices import Source

BATCH_SIZE = 2000
INFER_TYPE = {"住院号": "inpatient", "门诊号": "outpatient"}


class _DryRun(Exception):
    """Raised inside the batch transaction to roll a dry run back after counting."""


def parsed_table(path, sheet=None):
    """The header map now (a bad file fails before anything is written) and, lazily, each row
    as (row number, raw cells, VisitRow or None, problems) — for the import and its preview."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    hm, rows = read_table(path, COLUMNS, sheet)
    inferred = INFER_TYPE.get(hm.header_of("visit_no").strip(), "")
    tz, today = ZoneInfo(settings.TIME_ZONE), timezone.localdate()
    return hm, ((number, raw, *parse_row(raw, tz, today, inferred)) for number, raw in rows)


def _rows(path, sheet):
    _hm, rows = parsed_table(path, sheet)
    return ((number, row, problems) for number, _raw, row, problems in rows)


def run_import(
    run: ImportRun,
    path: str | Path,
    *,
    sheet: str | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[ImportRun], None] | None = None,
) -> ImportRun:
    """Import ``path`` into ``run``. File-level problems raise TabularError before any write."""
    rows = _rows(path, sheet)  # reads the header: a bad file fails here, before anything is written
    run.status, run.started_at = RunStatus.RUNNING, timezone.now()
    run.total_rows = count_data_rows(path, sheet)
    run.processed_rows = run.created = run.updated = run.unchanged = run.failed = 0
    run.errors = []
    run.save()
    resolver = Resolver()
    write = not run.dry_run
    if run.strict and write:
        # Strict: a first pass that writes nothing; any failing row stops the import.
        probe = ImportRun(dry_run=True)
        _process(probe, _rows(path, sheet), resolver, batch_size, write=False, on_progress=None)
        if probe.failed:
            run.failed, run.errors = probe.failed, probe.errors
            run.processed_rows = probe.processed_rows
            write = False
            run.message = "严格模式：有出错的行，全部未导入"
    if write or run.dry_run:
        _process(run, rows, resolver, batch_size, write=write, on_progress=on_progress)
    run.status, run.finished_at = RunStatus.FINISHED, timezone.now()
    run.total_rows = run.processed_rows  # the quick count included blank lines
    run.save()
    if not run.dry_run:
        record_event(
            Action.IMPORT,
            object_type="intake.importrun",
            object_id=str(run.pk),
            object_repr=run.file_name,
            message=summary(run),
        )
    return run


def _process(run, rows, resolver, batch_size, *, write, on_progress):
    batch, errors = [], []

    def flush():
        nonlocal batch, errors
        fields = ["processed_rows", "created", "updated", "unchanged", "failed", "errors"]
        try:
            with transaction.atomic():
                outcomes = apply_rows(batch, Source.IMPORT, resolver) if batch else {}
                _count(run, outcomes, errors)
                if not write:
                    raise _DryRun
                if run.pk:
                    run.save(update_fields=fields)  # progress commits with the batch
        except _DryRun:
            if run.pk:
                run.save(update_fields=fields)
        batch, errors = [], []
        if on_progress:
            on_progress(run)

    for number, row, problems in rows:
        if problems:
            errors.extend([number, p.column, p.value, p.reason] for p in problems)
            errors.append(None)  # marks one failed row
        else:
            batch.append((number, row))
        if len(batch) + len(errors) >= batch_size:
            flush()
    flush()


def _count(run, outcomes, parse_errors):
    failed_rows, batch_errors = 0, []
    for item in parse_errors:
        if item is None:
            failed_rows += 1
        else:
            number, column, value, reason = item
            batch_errors.append(
                [number, LABELS.get(column, column), masked_value(column, value), reason]
            )
    for number, outcome in outcomes.items():
        if outcome.status == "failed":
            failed_rows += 1
            batch_errors.extend([number, LABELS.get(c, c), v, r] for c, v, r in outcome.problems)
        else:
            setattr(run, outcome.status, getattr(run, outcome.status) + 1)
    run.errors.extend(
        sorted(batch_errors, key=lambda e: e[0])
    )  # stable: a row's columns keep their order
    run.failed += failed_rows
    run.processed_rows += failed_rows + sum(1 for o in outcomes.values() if o.status != "failed")


def summary(run: ImportRun) -> str:
    mode = "（试运行，未写入）" if run.dry_run else ""
    return (
        f"新增 {run.created}，更新 {run.updated}，未变 {run.unchanged}，失败 {run.failed} 行{mode}"
    )


def import_visits_command(path, *, dry_run=False, strict=False, sheet=None) -> ImportResult:
    """`careloop import visits FILE`: progress on stderr, result for the shared command."""
    import sys

    run = ImportRun(
        file_name=Path(path).name, stored_path=str(path), dry_run=dry_run, strict=strict
    )

    def progress(r):
        print(f"已处理 {r.processed_rows}/{r.total_rows} 行", file=sys.stderr, flush=True)

    run_import(run, path, sheet=sheet, on_progress=progress)
    result = ImportResult(
        created=run.created, updated=run.updated, unchanged=run.unchanged, dry_run=dry_run
    )
    for number, column, value, reason in run.errors:
        result.error(number, column, value, reason)
    return result
