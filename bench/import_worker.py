"""One measurement of the import benchmark, in a fresh process: `python -m bench.import_worker
ACTION JSON`. The environment (DATABASE_URL, CARELOOP_VAR_DIR, DJANGO_SETTINGS_MODULE) names the
scratch database; the last line printed on stdout is the result as JSON.

Actions: setup (departments), reset (empty the patient tables), import (our run_import, optionally
under cProfile), raw (dump what the import wrote, empty, time a COPY/executemany load), iie
(django-import-export on a CSV), read (the tabular reader alone), parse (reader and §9 parser, no
database), digest (natural-key dump).
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time


def _peak_mb() -> float:
    """Peak RSS of this process (ru_maxrss, KiB on Linux).

    Linux carries ru_maxrss across fork and exec: a child starts at its parent's peak. The
    orchestrator therefore stays small (it generates the files in a subprocess too), and
    ``_hwm_mb`` (the peak of this address space only) cross-checks the figure.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _setup_django() -> float:
    import django

    django.setup()
    return _peak_mb()


# Children first: the order to empty tables in (loading goes the other way).
# Children first: the planner marks (VisitChange, issue 4) refer to visits.
TABLE_MODELS = ["VisitChange", "Diagnosis", "PatientPhone", "PatientEvent", "Visit", "Patient"]


def _models():
    from careloop.patients import models

    return [getattr(models, name) for name in TABLE_MODELS]


def setup(args: dict) -> dict:
    from careloop.org.models import Department

    from .import_data import DEPARTMENTS

    Department.objects.bulk_create(
        [Department(code=code, name=name, kind=kind) for code, name, kind in DEPARTMENTS]
    )
    return {"departments": Department.objects.count()}


def reset(args: dict) -> dict:
    """Empty the tables an import writes (PostgreSQL only: SQLite gets a fresh file copy)."""
    from django.db import connection

    from careloop.intake.models import ImportRun

    tables = [m._meta.db_table for m in _models()] + [ImportRun._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute(f"ANALYZE {', '.join(tables)}")
    return {}


def run_import(args: dict) -> dict:
    from pathlib import Path

    from careloop.intake.importer import run_import as import_file
    from careloop.intake.models import ImportRun

    base = _peak_mb()
    path = Path(args["path"])
    run = ImportRun(file_name=path.name, stored_path=str(path))
    profiler = None
    if args.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    marks = []  # per batch: does a batch get slower as the tables grow?

    def progress(_run):
        marks.append(time.perf_counter())

    start = time.perf_counter()
    if profiler:
        profiler.enable()
    import_file(run, path, on_progress=progress)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    batches = [b - a for a, b in zip([start, *marks], marks, strict=False)][:-1]  # last: remainder
    if profiler:
        profiler.dump_stats(args["profile"])
    return {
        "seconds": seconds,
        "rows": run.processed_rows,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "failed": run.failed,
        "first_errors": run.errors[:5],
        "batches": batches,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "hwm_mb": _hwm_mb(),
    }


def _columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def raw(args: dict) -> dict:
    """Read back exactly what the import wrote, empty the tables, time loading the same rows."""
    from django.db import connection, transaction

    models = _models()
    vendor = connection.vendor
    dump = {}
    if vendor == "sqlite":
        import sqlite3

        # A plain connection: the values exactly as stored, without Django's type converters.
        reader = sqlite3.connect(connection.settings_dict["NAME"]).cursor()
    else:
        reader = connection.cursor()
    for model in models:
        cols = ", ".join(connection.ops.quote_name(c) for c in _columns(model))
        reader.execute(f"SELECT {cols} FROM {model._meta.db_table} ORDER BY id")
        dump[model] = reader.fetchall()
    reader.close()
    counts = {m._meta.db_table: len(rows) for m, rows in dump.items()}
    if vendor == "postgresql":
        from psycopg.types.json import Jsonb

        for model, rows in dump.items():
            if any(f.get_internal_type() == "JSONField" for f in model._meta.concrete_fields):
                dump[model] = [
                    tuple(Jsonb(v) if isinstance(v, (dict, list)) else v for v in row)
                    for row in rows
                ]

    def empty():
        with transaction.atomic(), connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute(f"TRUNCATE {', '.join(m._meta.db_table for m in models)}")
            else:
                for model in models:
                    cursor.execute(f"DELETE FROM {model._meta.db_table}")

    def load():
        with transaction.atomic():
            for model in reversed(models):  # parents first
                rows = dump[model]
                if not rows:
                    continue
                names = [connection.ops.quote_name(c) for c in _columns(model)]
                table = model._meta.db_table
                if vendor == "postgresql":
                    with connection.cursor() as cursor:
                        sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
                        with cursor.cursor.copy(sql) as copy:
                            for row in rows:
                                copy.write_row(row)
                else:
                    marks = ", ".join("?" * len(names))
                    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
                    connection.connection.executemany(sql, rows)

    times = []
    for _ in range(args.get("repeat", 3)):
        empty()
        start = time.perf_counter()
        load()
        times.append(time.perf_counter() - start)
    with connection.cursor() as cursor:
        after = {}
        for model in models:
            cursor.execute(f"SELECT COUNT(*) FROM {model._meta.db_table}")
            after[model._meta.db_table] = cursor.fetchone()[0]
    if after != counts:
        raise SystemExit(f"raw load changed the row counts: {counts} → {after}")
    if vendor == "postgresql":  # COPY with explicit ids leaves the sequences behind
        with connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    return {
        "seconds": min(times),
        "all_seconds": times,
        "rows": sum(counts.values()),
        "tables": counts,
        "peak_mb": _peak_mb(),
        "hwm_mb": _hwm_mb(),
    }


def iie(args: dict) -> dict:
    """django-import-export: the same CSV through a ModelResource (bench.import_iie)."""
    import tablib

    from .import_iie import VisitResource

    base = _peak_mb()
    start = time.perf_counter()
    with open(args["path"], encoding="utf-8", newline="") as fh:
        dataset = tablib.Dataset().load(fh.read(), format="csv")
    result = VisitResource().import_data(dataset, dry_run=False, use_transactions=True)
    seconds = time.perf_counter() - start
    errors = [
        f"row {number}: {error.error!r}" for number, errs in result.row_errors() for error in errs
    ]
    errors += [f"row {row.number}: {row.error}" for row in result.invalid_rows]
    return {
        "seconds": seconds,
        "rows": len(dataset),
        "totals": dict(result.totals),
        "errors": errors[:5],
        "error_count": len(errors),
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "hwm_mb": _hwm_mb(),
    }


def read(args: dict) -> dict:
    """Stream a file through the tabular reader only (no database): memory of the reader."""
    from careloop.intake.rows import COLUMNS
    from careloop.lib.tabular import read_table

    base = _peak_mb()
    start = time.perf_counter()
    _hm, body = read_table(args["path"], COLUMNS)
    count = sum(1 for _ in body)
    return {
        "seconds": time.perf_counter() - start,
        "rows": count,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "hwm_mb": _hwm_mb(),
    }


def parse(args: dict) -> dict:
    """Our reader and §9 parser over the whole file, no database: the floor of any import."""
    from careloop.intake.importer import _rows

    base = _peak_mb()
    start = time.perf_counter()
    good = bad = 0
    for _number, row, _problems in _rows(args["path"], None):
        good += row is not None
        bad += row is None
    return {
        "seconds": time.perf_counter() - start,
        "rows": good + bad,
        "failed": bad,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "hwm_mb": _hwm_mb(),
    }


def digest(args: dict) -> dict:
    """Natural-key, decrypted content of the patient tables: one hash per table."""
    from careloop.patients.models import Diagnosis, Patient, PatientEvent, PatientPhone, Visit

    def rows_of(qs, fn):
        return sorted(tuple(str(v) for v in fn(obj)) for obj in qs)

    tables = {
        "patient": rows_of(
            Patient.objects.all(),
            lambda p: (
                p.patient_no, p.name, p.sex, p.birth_date, p.birth_date_estimated, p.id_number,
                p.id_number_bidx, p.address, p.is_deceased, p.deceased_at, p.do_not_contact,
                p.open_dispute,
            ),
        ),
        "phone": rows_of(
            PatientPhone.objects.select_related("patient"),
            lambda p: (p.patient.patient_no, p.position, p.number, p.number_bidx, p.owner,
                       p.is_preferred),
        ),
        "visit": rows_of(
            Visit.objects.select_related("patient", "department"),
            lambda v: (
                v.visit_type, v.visit_no, v.patient.patient_no, v.department.code,
                v.attending_doctor_id, v.attending_doctor_name, v.responsible_nurse_id,
                v.responsible_nurse_name, v.admitted_at, v.discharged_at, v.visit_at,
                v.disposition, v.cleared_out, v.total_cost, v.first_visit, v.lost, v.special,
                v.chronic, v.status, v.source,
            ),
        ),
        "diagnosis": rows_of(
            Diagnosis.objects.select_related("visit"),
            lambda d: (d.visit.visit_type, d.visit.visit_no, d.position, d.code, d.text,
                       d.is_principal),
        ),
        "event": rows_of(
            PatientEvent.objects.select_related("patient", "visit"),
            lambda e: (e.patient.patient_no, e.visit.visit_no if e.visit else "", e.kind,
                       e.occurred_at, json.dumps(e.detail, sort_keys=True), e.source),
        ),
    }  # fmt: skip
    return {
        name: {"rows": len(rows), "sha256": hashlib.sha256(repr(rows).encode()).hexdigest()[:16]}
        for name, rows in tables.items()
    }


ACTIONS = {
    "setup": setup,
    "reset": reset,
    "import": run_import,
    "raw": raw,
    "iie": iie,
    "read": read,
    "parse": parse,
    "digest": digest,
}


def main() -> None:
    action, args = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    _setup_django()
    result = ACTIONS[action](args)
    sys.stdout.flush()
    print("\n" + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
