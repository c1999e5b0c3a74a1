"""F1/F2/F5–F7 follow-up planner: 1,000,000 visits planned under kf-phone and discharge-nurse.

`python -m bench plan` (or `make bench`). Environment: BENCH_PLAN_VISITS scales it (default
1000000; 20000 is a smoke run of well under a minute); BENCH_DBS=sqlite,postgresql picks
databases; BENCH_PG_URL names the server (default postgres://postgres:careloop@127.0.0.1:5432/;
scratch databases careloop_bench_plan and its template careloop_bench_plan_tpl, dropped at the
end); BENCH_PROFILE=1 adds a cProfile listing of the first plan per database
(BENCH_PROFILE_DIR=DIR keeps the .prof files).

Per database, the data is built once (bench/plan_worker.py `build`: departments and staff
through the ORM; ~0.7 patients per visit, phones, visits and diagnoses written raw with COPY or
executemany, seeded; no pending-change rows) into a template — a SQLite file, or a PostgreSQL
database used as CREATE DATABASE … TEMPLATE — and every run starts from a fresh copy of it. On
PostgreSQL the loaded tables are VACUUM ANALYZEd, as autovacuum would do soon after a bulk load.
Each measurement runs in its own fresh process (its time and peak RSS are its own):
1. first plan: kf-phone and discharge-nurse activated, `plan(as_of=AS_OF)` — a full pass;
2. incremental re-plan, nothing changed: `plan(as_of=AS_OF)`;
3. full re-plan, nothing changed: `plan(as_of=AS_OF, full=True)`;
   both must leave the task table identical (every column of every row, and the task-event
   count) — the benchmark fails otherwise;
4. raw baseline: the task rows the plan wrote (every column but id) read back, the table
   emptied, and the same rows loaded in one transaction with COPY FROM STDIN (PostgreSQL) or
   executemany (SQLite) — best of 3.
Goals (the issue): first plan ≤ 2× the raw insert; a no-change re-plan ≤ 10% of the first plan.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from bench.common import (
    TemplateScratch,
    each_database,
    fingerprint,
    profile_report,
    timed_step,
)

N = int(os.environ.get("BENCH_PLAN_VISITS", "1000000"))
DBS = [d.strip() for d in os.environ.get("BENCH_DBS", "sqlite,postgresql").split(",") if d]
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres:careloop@127.0.0.1:5432/")
PG_DB = "careloop_bench_plan"
PG_TEMPLATE = "careloop_bench_plan_tpl"
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
AS_OF = "2026-07-01"  # fixed: the data ends the day before, the calendar year is official
POLICIES = ["kf-phone", "discharge-nurse"]

GOAL_RAW = 2.0  # first plan within 2× the raw insert of its task rows
GOAL_REPLAN = 0.10  # a no-change re-plan within 10% of the first plan


def _say(text: str) -> None:
    print(text, flush=True)


def _same(label: str, before: dict, after: dict, problems: list[str]) -> None:
    keys = ("tasks", "checksum", "events")
    if any(before[k] != after[k] for k in keys):
        text = f"{label}: the task table CHANGED although nothing changed: " + ", ".join(
            f"{k} {before[k]} → {after[k]}" for k in keys
        )
        _say(f"  !! {text}")
        problems.append(text)


def bench_database(vendor: str, tmp: Path, problems: list[str]) -> dict:
    (tmp / vendor).mkdir()
    scratch = TemplateScratch(
        vendor, tmp / vendor, server=PG_SERVER, db=PG_DB, template_db=PG_TEMPLATE,
        worker="bench.plan_worker", noise=(" INFO careloop.followup: plan {",),
    )  # fmt: skip
    res: dict = {}
    try:
        res["build"] = timed_step(
            f"migrate + build {N:,} visits (raw {'COPY' if vendor == 'postgresql' else 'executemany'})",
            lambda: scratch.build(visits=N, as_of=AS_OF),
        )
        b = res["build"]
        v = b["visits"]
        _say(f"    {b['patients']:,} patients ({b['flags']}), {b['departments']} departments, "
             f"{b['users']} staff; visits {v}; rows {b['rows']}"
             + (f"; file {b['file_mb']:.0f} MB" if "file_mb" in b else ""))  # fmt: skip
        scratch.fresh()
        args = {"as_of": AS_OF, "policies": POLICIES}
        res["first"] = timed_step(
            f"first plan: activate {', '.join(POLICIES)}, plan(as_of={AS_OF})",
            lambda: scratch.worker("first", **args),
        )
        state = res["first"]["state"]
        _say(f"    {state['tasks']:,} tasks, {state['events']:,} task events, "
             f"{res['first']['queries']:,} SQL statements; {state['by_status']}")  # fmt: skip
        _say(f"    plan() returned {res['first']['result']}")
        res["incremental"] = timed_step(
            "incremental re-plan, nothing changed: plan(as_of=same)",
            lambda: scratch.worker("replan", **args, full=False),
        )
        _same("incremental re-plan", state, res["incremental"]["state"], problems)
        _say(f"    {res['incremental']['queries']:,} SQL statements; "
             f"returned {res['incremental']['result']}")  # fmt: skip
        res["full"] = timed_step(
            "full re-plan, nothing changed: plan(as_of=same, full=True)",
            lambda: scratch.worker("replan", **args, full=True),
        )
        _same("full re-plan", state, res["full"]["state"], problems)
        _say(f"    {res['full']['queries']:,} SQL statements; returned {res['full']['result']}")
        res["raw"] = timed_step(
            f"raw load of the {state['tasks']:,} task rows "
            f"({'COPY FROM STDIN' if vendor == 'postgresql' else 'executemany'}, one transaction, best of 3)",
            lambda: scratch.worker("raw", repeat=3),
        )
        _say(f"    runs {', '.join(f'{s:.2f}' for s in res['raw']['all_seconds'])} s"
             + (f"; tasks with their {res['raw']['events']:,} events: "
                f"{res['raw']['with_events_seconds']:.2f} s" if res["raw"]["events"] else ""))  # fmt: skip
        if PROFILE:
            scratch.fresh()
            prof = tmp / f"{vendor}-first-plan.prof"
            timed_step(
                "first plan again, under cProfile",
                lambda: scratch.worker("first", **args, profile=str(prof)),
            )
            res["profile"] = profile_report(prof, careloop=15, everything=25, own=12)
            if keep := os.environ.get("BENCH_PROFILE_DIR"):
                Path(keep).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(prof, Path(keep) / prof.name)
    finally:
        scratch.drop()
    return res


CODE_UNDER_TEST = [
    "careloop/followup/planner.py",
    "careloop/followup/planning.py",
    "careloop/followup/services.py",
    "careloop/followup/models.py",
    "careloop/followup/presets.py",
    "careloop/lib/workdays.py",
    "careloop/lib/icd10.py",
    "careloop/calendars/services.py",
]


def _table(results: dict) -> list[tuple[str, bool, str]]:
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    _say("")
    _say(f"Follow-up planner, {', '.join(POLICIES)}, as of {AS_OF} (ratios measured in the same "
         "run, same machine; each step a fresh process)")  # fmt: skip
    head = (
        f"{'database':<11}{'visits':>10}{'tasks':>10}{'first s':>9}{'visits/s':>10}"
        f"{'raw s':>8}{'ratio':>7}{'incr s':>8}{'incr %':>8}{'full s':>8}{'full %':>8}"
        f"{'peak MB':>9}"
    )
    _say(head)
    _say(f"{'':<11}{'':>10}{'':>10}{'':>9}{'':>10}{'':>8}{'≤2×':>7}{'':>8}{'≤10%':>8}{'':>8}"
         f"{'≤10%':>8}{'(first)':>9}")  # fmt: skip
    goals = []
    for vendor, res in results.items():
        first, raw = res["first"], res["raw"]
        incr, full = res["incremental"], res["full"]
        ratio = first["seconds"] / raw["seconds"] if raw["seconds"] else float("inf")
        incr_pct = incr["seconds"] / first["seconds"]
        full_pct = full["seconds"] / first["seconds"]
        _say(
            f"{title[vendor]:<11}{N:>10,}{first['state']['tasks']:>10,}{first['seconds']:>9.2f}"
            f"{N / first['seconds']:>10,.0f}{raw['seconds']:>8.2f}{ratio:>6.2f}×"
            f"{incr['seconds']:>8.2f}{incr_pct:>7.1%}{full['seconds']:>8.2f}{full_pct:>7.1%}"
            f"{first['peak_mb']:>9.0f}"
        )
        t = title[vendor]
        goals.append((f"{t}: first plan {first['seconds']:.2f} s = {ratio:.2f}× the raw insert of "
                      f"its {first['state']['tasks']:,} task rows ({raw['seconds']:.2f} s)",
                      ratio <= GOAL_RAW, f"goal ≤ {GOAL_RAW:.0f}×"))  # fmt: skip
        goals.append((f"{t}: incremental no-change re-plan {incr['seconds']:.2f} s = "
                      f"{incr_pct:.1%} of the first plan", incr_pct <= GOAL_REPLAN,
                      f"goal ≤ {GOAL_REPLAN:.0%}"))  # fmt: skip
        goals.append((f"{t}: full no-change re-plan (full=True) {full['seconds']:.2f} s = "
                      f"{full_pct:.1%} of the first plan", full_pct <= GOAL_REPLAN,
                      f"goal ≤ {GOAL_REPLAN:.0%}"))  # fmt: skip
    _say("Peak RSS (MB) of each step's process, Django loaded → after the step:")
    for vendor, res in results.items():
        steps = ", ".join(
            f"{key} {res[key]['base_mb']:.0f} → {res[key]['peak_mb']:.0f}"
            for key in ("first", "incremental", "full")
        )
        _say(f"    {title[vendor]:<11}{steps}; raw {res['raw']['peak_mb']:.0f}; "
             f"build {res['build']['peak_mb']:.0f}")  # fmt: skip
    return goals


def run() -> None:
    start = time.perf_counter()
    _say(f"plan benchmark: {N:,} visits, policies {', '.join(POLICIES)}, as of {AS_OF}, "
         f"databases {', '.join(DBS)}")  # fmt: skip
    measured = fingerprint(CODE_UNDER_TEST)
    _say(f"  code under test: {measured}")
    results, problems = each_database("plan", DBS, PG_SERVER, bench_database)

    goals = _table(results)
    for vendor, res in results.items():
        if "profile" in res:
            _say("")
            _say(f"cProfile of the first plan, {N:,} visits, {vendor}:")
            _say(res["profile"])
    _say("")
    _say("Goals:")
    for text, ok, goal in goals:
        _say(f"  {'PASS' if ok else 'MISS'}  {text} — {goal}")
    for text in problems:
        _say(f"  FAIL  {text}")
    _say(f"plan benchmark finished in {time.perf_counter() - start:.0f} s ({measured})")
    if (now := fingerprint(CODE_UNDER_TEST)) != measured:
        _say(f"  !! the code under test changed during the run: now {now}")
    if problems:
        sys.exit("plan benchmark: a no-change re-plan changed the task table")
