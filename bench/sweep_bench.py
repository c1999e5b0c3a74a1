"""Issue 6: the hourly deadline sweep (`services.sweep_deadlines(now)`) over 100,000 open items.

`python -m bench sweep`. Environment: BENCH_SWEEP_ITEMS scales it (default 100000; 5000 is a
smoke run of well under a minute); BENCH_SWEEP_ACTING the fraction of items with something to
do at the measured moment (default 0.01); BENCH_SWEEP_UNREMINDED the fraction of the overdue
idle items that reached their deadline without a reminder (default 0; a rule with warn_hours 0,
or the job down through the warning window — the sweep's read used to keep matching them every
hour; now it must not, and the run checks it); BENCH_DBS=sqlite,postgresql picks databases;
BENCH_PG_URL names the server (default postgres://postgres:careloop@127.0.0.1:5432/; scratch
databases careloop_bench_sweep and its template careloop_bench_sweep_tpl, dropped at the end);
BENCH_PROFILE=1 adds a cProfile listing of one more 1% sweep per database (BENCH_PROFILE_DIR=DIR
keeps the .prof files).

Data, per database (bench/sweep_worker.py `build`, seeded, bulk_create — not the services):
role groups (`sync_role_groups`), 30 departments each with a department head, a head nurse and
two doctors, one service supervisor, one medical-affairs user, 12 service-centre agents (the
supervisor, medical affairs and the department heads asked for SMS alerts); 300 visits; then
the open items — 70% cases (registered/accepted/investigating/handling, one or two departments
each, 60% with a handler), 20% disposal forms (each on its own completed follow-up task, the
OneToOne; 70% waiting for the department, 30% for medical affairs), 10% clinical escalations
(70% with a doctor) — with deadlines from the preset rules laid out around the measured moment
so that 1% of them newly need something: half a reminder (warn_at passed within the hour), 30%
their first escalation (due_at passed within the hour), 20% their second (second_due_at passed
within the hour); of the rest, 45% are still before their warning, 15% inside it and reminded,
20% overdue at level 1 (a tenth of them without a second level) and 20% at level 2. The inbox
rows and the cases' "created" events earlier sweeps and registrations left are there too.
The data is built once into a template (a SQLite file, or a PostgreSQL database used as
CREATE DATABASE … TEMPLATE; VACUUM ANALYZEd / ANALYZEd) and every run starts from a fresh copy.

Measured, three times, each in a fresh process on a fresh copy (best of 3 reported):
1. baseline: the sweep's own read of the items that have something to do —
   `list(Model.objects.filter(<the Q of services.sweep._open_items>).values_list("pk"))` for
   Case, DisposalForm, Escalation (and CaseRefollow, empty) — the unavoidable scan (itself best
   of 3 within the run); checked to return the same rows as `_open_items`;
2. the sweep at that moment: time, reminders, escalations, Notification / CaseEvent / outbox
   rows written, SQL statements by kind; checked against the counts the data was built with;
3. the sweep again at the same moment: must remind and escalate nothing and write no row.
Goals (issue 6): the 1% sweep within 60 s at 100,000 items (an hourly job, with headroom); the
no-op sweep within 5× the baseline read.
"""

from __future__ import annotations

import datetime as dt
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

N = int(os.environ.get("BENCH_SWEEP_ITEMS", "100000"))
ACTING = float(os.environ.get("BENCH_SWEEP_ACTING", "0.01"))
UNREMINDED = float(os.environ.get("BENCH_SWEEP_UNREMINDED", "0"))
DBS = [d.strip() for d in os.environ.get("BENCH_DBS", "sqlite,postgresql").split(",") if d]
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres:careloop@127.0.0.1:5432/")
PG_DB = "careloop_bench_sweep"
PG_TEMPLATE = "careloop_bench_sweep_tpl"
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
RUNS = 3
# The measured moment: a Wednesday 10:00 in the hospital's time zone.
NOW = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

GOAL_SWEEP_S = 60.0  # the 1% sweep at 100,000 items
GOAL_SWEEP_AT = 100_000
GOAL_NOOP = 5.0  # the no-op sweep within 5× the baseline read


def _say(text: str) -> None:
    print(text, flush=True)


def _sql_lines(sql: dict, acted: int, wall: float) -> list[str]:
    lines = [
        f"      {sql['statements']:,} statements, {sql['seconds']:.2f} s of {wall:.2f} s in the "
        f"database driver ({sql['statements'] / max(acted, 1):.1f} statements per item acted on)"
    ]
    for kind, count, seconds in sql["by_kind"][:10]:
        lines.append(f"      {count:>8,} × {kind:<42} {seconds:>7.3f} s "
                     f"({count / max(acted, 1):.2f} per item)")  # fmt: skip
    return lines


def bench_database(vendor: str, tmp: Path, problems: list[str]) -> dict:
    (tmp / vendor).mkdir()
    scratch = TemplateScratch(
        vendor, tmp / vendor, server=PG_SERVER, db=PG_DB, template_db=PG_TEMPLATE,
        worker="bench.sweep_worker",
    )  # fmt: skip
    res: dict = {"runs": []}
    try:
        res["build"] = b = timed_step(
            f"migrate + build {N:,} open items (bulk_create)",
            lambda: scratch.build(
                items=N, acting=ACTING, unreminded=UNREMINDED, now=NOW.isoformat()
            ),
        )
        e = b["expected"]
        _say(f"    {b['cases']:,} cases, {b['forms']:,} disposal forms (and their tasks), "
             f"{b['escalations']:,} escalations; {b['users']} staff, {b['departments']} "
             f"departments, {b['visits']} visits; {b['inbox']:,} earlier inbox rows"
             + (f"; file {b['file_mb']:.0f} MB" if "file_mb" in b else ""))  # fmt: skip
        _say(f"    at {NOW:%Y-%m-%d %H:%M%z}: {e['remind']:,} to remind, {e['esc1']:,} to escalate "
             f"to level 1, {e['esc2']:,} to level 2; idle: {e['far']:,} before their warning, "
             f"{e['reminded']:,} reminded, {e['level1']:,} at level 1, {e['level2']:,} at level 2"
             + (f" ({e['unreminded']:,} of those overdue never reminded)" if e["unreminded"] else ""))  # fmt: skip
        for run in range(RUNS):
            scratch.fresh()
            out = timed_step(
                f"run {run + 1}/{RUNS} (fresh copy, fresh process): baseline read, sweep, "
                "sweep again",
                lambda run=run: scratch.worker(
                    "measure", now=NOW.isoformat(), expected=e, repeat=3, explain=run == 0
                ),
            )
            sw, nop = out["sweep"], out["noop"]
            _say(f"    baseline {out['baseline'] * 1000:.1f} ms ({sum(out['read'].values()):,} rows); "
                 f"sweep {sw['seconds']:.2f} s {sw['result']}, wrote {out['written']}; "
                 f"again {nop['seconds'] * 1000:.1f} ms {nop['result']} "
                 f"({nop['sql']['statements']} statements)")  # fmt: skip
            for text in out["problems"]:
                _say(f"  !! {vendor} run {run + 1}: {text}")
                problems.append(f"{vendor} run {run + 1}: {text}")
            if out["plans"]:
                res["plans"] = out["plans"]
            res["runs"].append(out)
        if PROFILE:
            scratch.fresh()
            prof = tmp / f"{vendor}-sweep.prof"
            timed_step(
                "one more run, the 1% sweep under cProfile",
                lambda: scratch.worker("measure", now=NOW.isoformat(), expected=e, repeat=1,
                                       profile=str(prof)),
            )  # fmt: skip
            res["profile"] = profile_report(prof)
            if keep := os.environ.get("BENCH_PROFILE_DIR"):
                Path(keep).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(prof, Path(keep) / prof.name)
    finally:
        scratch.drop()
    return res


CODE_UNDER_TEST = [
    "careloop/cases/services/sweep.py",
    "careloop/cases/services/common.py",
    "careloop/cases/services/cases.py",
    "careloop/cases/services/disposal.py",
    "careloop/cases/services/escalations.py",
    "careloop/cases/deadlines.py",
    "careloop/cases/models.py",
    "careloop/notify/inbox.py",
    "careloop/notify/services.py",
]


def _table(results: dict) -> list[tuple[str, bool, str]]:
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    _say("")
    _say(f"Deadline sweep at {NOW:%Y-%m-%d %H:%M%z}, {N:,} open items, {ACTING:.0%} acting "
         f"(best of {RUNS} fresh copies; ratios measured in the same run, same machine)")  # fmt: skip
    _say(f"{'database':<11}{'items':>9}{'acted':>7}{'remind':>8}{'escal':>7}{'notes':>7}"
         f"{'events':>8}{'sms':>6}{'base ms':>9}{'sweep s':>9}{'×base':>9}{'noop ms':>9}"
         f"{'×base':>7}")  # fmt: skip
    _say(f"{'':<11}{'':>9}{'':>7}{'':>8}{'':>7}{'':>7}{'':>8}{'':>6}{'':>9}{'≤60 s':>9}{'':>9}"
         f"{'':>9}{'≤5×':>7}")  # fmt: skip
    goals = []
    for vendor, res in results.items():
        runs = res["runs"]
        base = min(r["baseline"] for r in runs)
        best = min(runs, key=lambda r: r["sweep"]["seconds"])
        sweep = best["sweep"]["seconds"]
        noop = min(r["noop"]["seconds"] for r in runs)
        got, written = best["sweep"]["result"], best["written"]
        acted = got["reminded"] + got["escalated"]
        _say(
            f"{title[vendor]:<11}{N:>9,}{acted:>7,}{got['reminded']:>8,}{got['escalated']:>7,}"
            f"{written['notifications']:>7,}{written['case_events']:>8,}{written['outbox']:>6,}"
            f"{base * 1000:>9.1f}{sweep:>9.2f}{sweep / base:>8.0f}×{noop * 1000:>9.1f}"
            f"{noop / base:>6.2f}×"
        )
        t = title[vendor]
        at = "" if N == GOAL_SWEEP_AT else f" (goal set at {GOAL_SWEEP_AT:,} items; this run {N:,})"
        goals.append((f"{t}: the {ACTING:.0%} sweep ({acted:,} items acted on) took {sweep:.2f} s"
                      f"{at}", sweep <= GOAL_SWEEP_S, f"goal ≤ {GOAL_SWEEP_S:.0f} s"))  # fmt: skip
        goals.append((f"{t}: the no-op sweep took {noop * 1000:.1f} ms = {noop / base:.2f}× the "
                      f"baseline read ({base * 1000:.1f} ms)", noop / base <= GOAL_NOOP,
                      f"goal ≤ {GOAL_NOOP:.0f}×"))  # fmt: skip
    for vendor, res in results.items():
        runs = res["runs"]
        base = ", ".join(f"{r['baseline'] * 1000:.1f}" for r in runs)
        sweeps = ", ".join(f"{r['sweep']['seconds']:.2f}" for r in runs)
        noops = ", ".join(f"{r['noop']['seconds'] * 1000:.1f}" for r in runs)
        _say(f"  {title[vendor]} runs: baseline {base} ms · sweep {sweeps} s · no-op {noops} ms")
    for vendor, res in results.items():
        best = min(res["runs"], key=lambda r: r["sweep"]["seconds"])
        sw = best["sweep"]
        acted = sw["result"]["reminded"] + sw["result"]["escalated"]
        _say("")
        _say(f"{title[vendor]}, the best 1% sweep: {sw['seconds']:.2f} s = "
             f"{sw['seconds'] / max(acted, 1) * 1000:.1f} ms per item acted on; "
             f"{sw['commits']:,} explicit commits (atomic blocks outside a transaction)")  # fmt: skip
        for line in _sql_lines(sw["sql"], acted, sw["seconds"]):
            _say(line)
        noop = best["noop"]
        _say(f"    no-op sweep: {noop['sql']['statements']} statements "
             f"({', '.join(f'{c} × {k}' for k, c, _s in noop['sql']['by_kind'])}); "
             f"items still matching the read afterwards: {best['still_pending']:,}"
             + (" (the read still matches them: see the check above)" if best["still_pending"] else ""))  # fmt: skip
        for name, plan in res.get("plans", {}).items():
            _say(f"    plan of the read, {name}: {plan[:220]}")
    return goals


def run() -> None:
    start = time.perf_counter()
    _say(f"sweep benchmark: {N:,} open items, {ACTING:.0%} acting at {NOW.isoformat()}, "
         + (f"{UNREMINDED:.0%} of the overdue never reminded, " if UNREMINDED else "")
         + f"databases {', '.join(DBS)}")  # fmt: skip
    measured = fingerprint(CODE_UNDER_TEST)
    _say(f"  code under test: {measured}")
    results, problems = each_database("sweep", DBS, PG_SERVER, bench_database)

    goals = _table(results)
    for vendor, res in results.items():
        if "profile" in res:
            _say("")
            _say(f"cProfile of the {ACTING:.0%} sweep, {N:,} items, {vendor}:")
            _say(res["profile"])
    _say("")
    _say("Goals:")
    for text, ok, goal in goals:
        _say(f"  {'met   ' if ok else 'MISSED'}  {text} — {goal}")
    for text in problems:
        _say(f"  FAIL    {text}")
    _say(f"sweep benchmark finished in {time.perf_counter() - start:.0f} s ({measured})")
    if (now := fingerprint(CODE_UNDER_TEST)) != measured:
        _say(f"  !! the code under test changed during the run: now {now}")
    if problems:
        sys.exit("sweep benchmark: a check failed (see FAIL above)")
