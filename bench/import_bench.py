"""P4.1 file import: 200k §9 visit rows (CSV and XLSX) into SQLite and PostgreSQL.

`python -m bench import` (or `make bench`). Environment: BENCH_ROWS scales it (default 200000);
BENCH_DBS=sqlite,postgresql picks databases; BENCH_PG_URL names the server (default
postgres://postgres:careloop@127.0.0.1:5432/, scratch database careloop_bench_import, dropped at
the end); BENCH_PROFILE=1 adds cProfile listings of a 20k-row CSV import and re-import per
database (BENCH_PROFILE_DIR=DIR keeps the .prof files).

Every measurement runs in a fresh subprocess (bench/import_worker.py) so its time and peak RSS
are its own; the files are generated in a subprocess too (bench/import_data.py), because Linux
hands a parent's peak RSS down to the ru_maxrss of every child it starts. Per database, in the
same run:
- ours: `run_import` of the CSV, then of the same CSV again (all unchanged), of the XLSX, and of
  the first quarter of the CSV (peak memory must not grow with the file); per-batch times show
  whether a batch gets slower as the tables grow;
- raw: what our CSV import wrote (patients, phones, visits, diagnoses, events) read back, the
  tables emptied, and the same rows loaded with COPY (PostgreSQL) or executemany in one
  transaction (SQLite) — best of 3;
- django-import-export (bench/import_iie.py, bench/import_settings.py; installed from
  bench/requirements.txt when missing) on the first BENCH_ROWS/40 rows, against ours on the same
  rows into an equally empty database; a decrypted digest checks that both wrote the same rows.
Without a database: the tabular reader alone on both file sizes (CSV streams; python-calamine
loads the whole XLSX sheet) and reader + §9 parser (the floor of any import in this style).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.common import ROOT, fingerprint, pg_reachable, timed_step

N = int(os.environ.get("BENCH_ROWS", "200000"))
QUARTER = max(N // 4, 1)
SAMPLE = max(N // 40, 50)  # 5,000 at the default size: django-import-export is slow per row
PROFILE_ROWS = min(N, 20000)
DBS = [d.strip() for d in os.environ.get("BENCH_DBS", "sqlite,postgresql").split(",") if d]
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres:careloop@127.0.0.1:5432/")
PG_DB = "careloop_bench_import"
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")

GOAL_RAW = 3.0  # ours within 3× of the raw load
GOAL_IIE = 10.0  # ours at least 10× django-import-export
GOAL_FLAT = 1.10  # peak RSS full / quarter file


def _say(text: str) -> None:
    print(text, flush=True)


def _ensure_extras() -> bool:
    if importlib.util.find_spec("import_export") is not None:
        return True
    requirements = Path(__file__).with_name("requirements.txt")
    _say(f"  installing {requirements.relative_to(ROOT)} (benchmark-only extras) …")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "-r", str(requirements)], check=False
    )
    importlib.invalidate_caches()
    if done.returncode or importlib.util.find_spec("import_export") is None:
        _say("  django-import-export could not be installed: that comparison is skipped")
        return False
    return True


class Scratch:
    """One scratch database and the environment its subprocesses run with."""

    def __init__(self, vendor: str, tmp: Path):
        self.vendor, self.tmp = vendor, tmp
        self.env = {
            **os.environ,
            "CARELOOP_VAR_DIR": str(tmp / "var"),  # dev keys shared by every subprocess
            "CARELOOP_QUIET_DEV_KEYS": "1",
            "CARELOOP_SCHEDULER": "0",
            "DJANGO_SETTINGS_MODULE": "careloop.settings",
            "PYTHONPATH": str(ROOT),
        }
        self.counter = 0
        if vendor == "postgresql":
            self.admin_url = urlunsplit(urlsplit(PG_SERVER)._replace(path="/postgres"))
            self.env["DATABASE_URL"] = urlunsplit(urlsplit(PG_SERVER)._replace(path=f"/{PG_DB}"))

    def worker(self, action: str, settings: str | None = None, **args) -> dict:
        env = dict(self.env)
        if settings:
            env["DJANGO_SETTINGS_MODULE"] = settings
        cmd = [sys.executable, "-m", "bench.import_worker", action, json.dumps(args)]
        done = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if done.returncode:
            sys.stdout.write(done.stdout)
            raise RuntimeError(f"{self.vendor}: worker {action} failed ({done.returncode})")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def create(self) -> None:
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {PG_DB}")
        else:
            self.template = self.tmp / "template.sqlite3"
            self.env["DATABASE_URL"] = f"sqlite:///{self.template}"
        subprocess.run(
            [sys.executable, "-m", "careloop", "migrate", "-v0"], env=self.env, cwd=ROOT, check=True
        )
        self.worker("setup")

    def fresh(self) -> None:
        """An empty, migrated database with the departments (a copy of the template on SQLite)."""
        if self.vendor == "postgresql":
            self.worker("reset")
            return
        self.counter += 1
        old = self.env["DATABASE_URL"].removeprefix("sqlite:///")
        path = self.tmp / f"db-{self.counter}.sqlite3"
        shutil.copyfile(self.template, path)
        self.env["DATABASE_URL"] = f"sqlite:///{path}"
        if old != str(self.template):
            for suffix in ("", "-wal", "-shm"):
                Path(old + suffix).unlink(missing_ok=True)

    def drop(self) -> None:
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def _check_import(label: str, result: dict, rows: int) -> None:
    if result["failed"] or result["rows"] != rows:
        _say(f"  !! {label}: {result['rows']} rows processed, {result['failed']} failed "
             f"(expected {rows}, 0): {result['first_errors']}")  # fmt: skip


def _profile_report(path: Path, top: int = 25) -> str:
    """Top functions by cumulative and by own time, paths shortened to package/module."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(12)
    text = out.getvalue()
    for prefix in sorted({str(ROOT), *map(str, sys.path)}, key=len, reverse=True):
        if len(prefix) > 1:
            text = text.replace(prefix + "/", "")
    skip = ("Ordered by", "List reduced", "Random listing", str(path))
    lines, seen_total = [], False
    for line in text.splitlines():
        if not line.strip() or any(s in line for s in skip):
            continue
        if "function calls" in line:
            if seen_total:
                lines.append("  — by own time —")
                continue
            seen_total = True
        lines.append(line)
    return "\n".join(lines)


def bench_database(vendor: str, files: dict, tmp: Path, with_iie: bool) -> dict:
    scratch = Scratch(vendor, tmp / vendor)
    (tmp / vendor).mkdir()
    res: dict = {}
    timed_step("create + migrate the scratch database", scratch.create)
    try:
        scratch.fresh()
        res["csv"] = timed_step(
            f"ours: CSV import, {N:,} rows",
            lambda: scratch.worker("import", path=str(files["csv"])),
        )
        _check_import("CSV import", res["csv"], N)
        res["reimport"] = timed_step(
            "ours: the same CSV again (all unchanged)",
            lambda: scratch.worker("import", path=str(files["csv"])),
        )
        _check_import("CSV re-import", res["reimport"], N)
        res["raw"] = timed_step(
            f"raw load of the rows the import wrote ({'COPY' if vendor == 'postgresql' else 'executemany'}, best of 3)",
            lambda: scratch.worker("raw", repeat=3),
        )
        scratch.fresh()
        res["xlsx"] = timed_step(
            f"ours: XLSX import, {N:,} rows",
            lambda: scratch.worker("import", path=str(files["xlsx"])),
        )
        _check_import("XLSX import", res["xlsx"], N)
        scratch.fresh()
        res["quarter"] = timed_step(
            f"ours: CSV import, {QUARTER:,} rows (memory)",
            lambda: scratch.worker("import", path=str(files["csv_quarter"])),
        )
        _check_import("CSV quarter import", res["quarter"], QUARTER)
        scratch.fresh()
        res["sample"] = timed_step(
            f"ours: CSV import, first {SAMPLE:,} rows",
            lambda: scratch.worker("import", path=str(files["csv_sample"])),
        )
        res["sample_digest"] = scratch.worker("digest")
        if with_iie:
            scratch.fresh()
            res["iie"] = timed_step(
                f"django-import-export: the same {SAMPLE:,} rows",
                lambda: scratch.worker(
                    "iie", settings="bench.import_settings", path=str(files["csv_sample"])
                ),
            )
            res["iie_digest"] = scratch.worker("digest")
            if res["iie"]["error_count"]:
                _say(f"  !! django-import-export: {res['iie']['error_count']} row errors: "
                     f"{res['iie']['errors']}")  # fmt: skip
        if PROFILE:
            scratch.fresh()
            for step, label in (("import", "CSV import"), ("reimport", "the same CSV again")):
                prof = tmp / f"{vendor}-{step}.prof"
                timed_step(
                    f"ours under cProfile: {label}, {PROFILE_ROWS:,} rows",
                    lambda prof=prof: scratch.worker(
                        "import", path=str(files["csv_profile"]), profile=str(prof)
                    ),
                )
                res[f"profile_{step}"] = _profile_report(prof)
                if keep := os.environ.get("BENCH_PROFILE_DIR"):
                    Path(keep).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(prof, Path(keep) / prof.name)
    finally:
        scratch.drop()
    return res


def _growth(batches: list[float]) -> str:
    """Mean batch time of the first and the last tenth of the batches: flat, or growing with
    the tables?"""
    if len(batches) < 4:
        return ""
    k = max(len(batches) // 10, 1)
    first, last = sum(batches[:k]) / k, sum(batches[-k:]) / k
    return f"{first:.2f} → {last:.2f} ({last / first:.2f}×)"


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "-"


def _report(vendor: str, res: dict) -> list[tuple[str, bool, str]]:
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[vendor]
    raw = res["raw"]
    method = "COPY FROM STDIN" if vendor == "postgresql" else "executemany, one transaction"
    _say("")
    _say(f"{title}: {N:,} visit rows (ratios are measured in this run, same machine)")
    _say(f"{'measurement':<44}{'rows':>9}{'seconds':>10}{'rows/s':>10}{'peak MB':>10}"
         f"{'vs raw':>9}   batch s, first→last tenth")  # fmt: skip

    def line(label, r, rows=None, ratio=""):
        rows = r["rows"] if rows is None else rows
        peak = f"{r['peak_mb']:.0f}" if r.get("peak_mb") else ""
        _say(f"{label:<44}{rows:>9,}{r['seconds']:>10.2f}{_rate(rows, r['seconds']):>10}"
             f"{peak:>10}{ratio:>9}   {_growth(r.get('batches', []))}")  # fmt: skip

    for key, label in (
        ("csv", "ours: CSV import"),
        ("xlsx", "ours: XLSX import"),
        ("reimport", "ours: CSV re-import (all unchanged)"),
    ):
        line(label, res[key], ratio=f"{res[key]['seconds'] / raw['seconds']:.2f}×")
    line(f"raw load ({method})", raw, rows=N, ratio="1.00×")
    tables = ", ".join(f"{t.split('_', 1)[1]} {c:,}" for t, c in raw["tables"].items())
    _say(f"{'':<4}raw load wrote {raw['rows']:,} table rows ({tables}); "
         f"runs {', '.join(f'{s:.2f}' for s in raw['all_seconds'])} s")  # fmt: skip
    line(f"ours: CSV import of the first {QUARTER:,}", res["quarter"])
    line(f"ours: CSV import of the first {SAMPLE:,}", res["sample"])
    if "iie" in res:
        line(f"django-import-export, first {SAMPLE:,}", res["iie"])
    _say(f"{'':<4}Django loaded, before any import: {res['csv']['base_mb']:.0f} MB peak RSS")
    for key, r in res.items():
        if isinstance(r, dict) and r.get("hwm_mb") and abs(r["peak_mb"] / r["hwm_mb"] - 1) > 0.1:
            _say(f"{'':<4}!! {key}: ru_maxrss {r['peak_mb']:.0f} MB but VmHWM {r['hwm_mb']:.0f} MB")

    goals = []
    ratio = res["csv"]["seconds"] / raw["seconds"]
    goals.append((f"{title}: ours CSV import takes {ratio:.2f}× the raw load ({method})",
                  ratio <= GOAL_RAW, f"goal ≤ {GOAL_RAW:.0f}×"))  # fmt: skip
    ratio = res["xlsx"]["seconds"] / raw["seconds"]
    goals.append((f"{title}: ours XLSX import takes {ratio:.2f}× the raw load",
                  ratio <= GOAL_RAW, f"goal ≤ {GOAL_RAW:.0f}×"))  # fmt: skip
    if "iie" in res:
        ours = res["sample"]["rows"] / res["sample"]["seconds"]
        theirs = res["iie"]["rows"] / res["iie"]["seconds"]
        full = res["csv"]["rows"] / res["csv"]["seconds"]
        same = res["iie_digest"] == res["sample_digest"]
        differ = [
            t for t in res["sample_digest"] if res["sample_digest"][t] != res["iie_digest"].get(t)
        ]
        note = "same rows written" if same else f"DATA DIFFERS in {', '.join(differ)}"
        goals.append(
            (f"{title}: ours is {ours / theirs:.1f}× faster than django-import-export on the same "
             f"{SAMPLE:,} rows ({ours:,.0f} vs {theirs:,.0f} rows/s; full-file ours "
             f"{full / theirs:.1f}×; {note})", ours / theirs >= GOAL_IIE and same,
             f"goal ≥ {GOAL_IIE:.0f}×")
        )  # fmt: skip
    flat = res["csv"]["peak_mb"] / res["quarter"]["peak_mb"]
    goals.append(
        (f"{title}: peak RSS, CSV {N:,} / {QUARTER:,} rows = {flat:.2f} "
         f"({res['csv']['peak_mb']:.0f} / {res['quarter']['peak_mb']:.0f} MB)",
         flat <= GOAL_FLAT, f"goal ≤ {GOAL_FLAT:.2f}")
    )  # fmt: skip
    return goals


def _readers(files: dict, tmp: Path) -> dict:
    """No database: the tabular reader alone (does its memory follow the file size?), and the
    reader with our §9 parser (the floor of any import written in this style)."""
    scratch = Scratch("sqlite", tmp / "reader")
    (tmp / "reader").mkdir()
    scratch.env["DATABASE_URL"] = f"sqlite:///{tmp / 'reader' / 'unused.sqlite3'}"
    out = {}
    for key in ("csv_quarter", "csv", "xlsx_quarter", "xlsx"):
        out[key] = scratch.worker("read", path=str(files[key]))
    for key in ("csv", "xlsx"):
        out[f"parse_{key}"] = scratch.worker("parse", path=str(files[key]))
    return out


CODE_UNDER_TEST = [
    "careloop/intake/importer.py",
    "careloop/intake/upsert.py",
    "careloop/intake/rows.py",
    "careloop/lib/tabular.py",
    "careloop/core/fields.py",
    "careloop/patients/models.py",
]


def run() -> None:
    start = time.perf_counter()
    _say(f"import benchmark: {N:,} rows, databases {', '.join(DBS)}; sample {SAMPLE:,}, "
         f"quarter {QUARTER:,}")  # fmt: skip
    measured = fingerprint(CODE_UNDER_TEST)
    _say(f"  code under test: {measured}")
    with_iie = _ensure_extras()
    tmp = Path(tempfile.mkdtemp(prefix="careloop-bench-import-"))
    try:
        files = {
            "csv": tmp / f"visits-{N}.csv",
            "csv_quarter": tmp / f"visits-{QUARTER}.csv",
            "csv_sample": tmp / f"visits-{SAMPLE}.csv",
            "xlsx": tmp / f"visits-{N}.xlsx",
            "xlsx_quarter": tmp / f"visits-{QUARTER}.xlsx",
        }
        csv_targets = {N: files["csv"], QUARTER: files["csv_quarter"], SAMPLE: files["csv_sample"]}
        if PROFILE:
            files["csv_profile"] = tmp / f"visits-{PROFILE_ROWS}.csv"
            csv_targets[PROFILE_ROWS] = files["csv_profile"]
        spec = {
            "n": N,
            "csv": {k: str(v) for k, v in csv_targets.items()},
            "xlsx": {N: str(files["xlsx"]), QUARTER: str(files["xlsx_quarter"])},
        }
        # In a subprocess: Linux hands a parent's peak RSS down to every child's ru_maxrss.
        timed_step(
            f"generating CSV and XLSX ({N:,} and {QUARTER:,} rows)",
            lambda: subprocess.run(
                [sys.executable, "-m", "bench.import_data", json.dumps(spec)], cwd=ROOT, check=True
            ),
        )
        unique = dict.fromkeys(files.values())  # the same size twice is the same file
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in unique)
        _say(f"  files: {sizes}")
        readers = timed_step(
            "reader alone and read + parse (no database), CSV and XLSX",
            lambda: _readers(files, tmp),
        )
        results = {}
        for vendor in DBS:
            _say(f"[{vendor}]")
            if vendor == "postgresql" and (why := pg_reachable(PG_SERVER)):
                _say(f"  PostgreSQL unreachable at {PG_SERVER}: skipped ({why})")
                continue
            results[vendor] = bench_database(vendor, files, tmp, with_iie)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    goals = []
    for vendor, res in results.items():
        goals += _report(vendor, res)
    _say("")
    _say("Reader alone (careloop.lib.tabular.read_table, no database): peak RSS")
    for kind in ("csv", "xlsx"):
        q, f = readers[f"{kind}_quarter"], readers[kind]
        _say(f"    {kind.upper():<5}{q['rows']:>9,} rows {q['peak_mb']:>6.0f} MB ({q['seconds']:.1f} s)"
             f"   {f['rows']:>9,} rows {f['peak_mb']:>6.0f} MB ({f['seconds']:.1f} s)"
             f"   ratio {f['peak_mb'] / q['peak_mb']:.2f}   (Django alone {f['base_mb']:.0f} MB)")  # fmt: skip
    _say("Read + §9 parse (importer._rows), no database: the floor of our import")
    for kind in ("csv", "xlsx"):
        p = readers[f"parse_{kind}"]
        _say(f"    {kind.upper():<5}{p['rows']:>9,} rows {p['seconds']:>7.1f} s "
             f"{_rate(p['rows'], p['seconds']):>8} rows/s   peak {p['peak_mb']:.0f} MB")  # fmt: skip
    x = readers["xlsx"]["peak_mb"] / readers["xlsx_quarter"]["peak_mb"]
    goals.append((f"XLSX reader: peak RSS {N:,} / {QUARTER:,} rows = {x:.2f} (python-calamine "
                  "loads the whole sheet; reported, not streamed)", x <= GOAL_FLAT,
                  f"goal ≤ {GOAL_FLAT:.2f}"))  # fmt: skip
    for vendor, res in results.items():
        for step, label in (("import", "CSV import"), ("reimport", "CSV re-import, unchanged")):
            if f"profile_{step}" in res:
                _say("")
                _say(f"cProfile of our {label}, {PROFILE_ROWS:,} rows, {vendor}:")
                _say(res[f"profile_{step}"])
    _say("")
    _say("Goals:")
    for text, ok, goal in goals:
        _say(f"  {'PASS' if ok else 'MISS'}  {text} — {goal}")
    _say(f"import benchmark finished in {time.perf_counter() - start:.0f} s ({measured})")
