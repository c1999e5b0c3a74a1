"""Issue 7: R1 for one month, all departments (`reports.queries.department_figures`) against
one hand-written SQL statement giving the same numbers, on 5,000,000 tasks (PostgreSQL) and
1,000,000 (SQLite) over 24 months.

`python -m bench report`. Environment: BENCH_REPORT_TASKS sets the number of tasks on every
database (default 5,000,000 on PostgreSQL, 1,000,000 on SQLite; 20000 is a smoke run of well
under a minute); BENCH_DBS=sqlite,postgresql picks databases; BENCH_PG_URL names the server
(default postgres://postgres:careloop@127.0.0.1:5432/; the data goes into bench_report_<tasks>,
dropped at the end); BENCH_REPORT_MONTH the measured month, or several separated by commas
(default 2025-07, the middle of the data; 2026-06 is its last complete month);
BENCH_REPORT_RUNS the number of timed runs (default 3, the best counts); BENCH_REPORT_EXPLAIN=1
prints the slowest statement of (a) and the plans (EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL,
EXPLAIN QUERY PLAN on SQLite) of it and of (b); BENCH_REPORT_VARIANTS=1 also times other
formulations of the hand-written statement; BENCH_REPORT_PROPOSALS=1 measures proposals one at
a time against (b) — PostgreSQL session settings (jit, random_page_cost), the followup 0005
reports indexes taken away, a candidate index on surveys_response (task_id, id);
BENCH_REPORT_KEEP=DIR keeps the databases (the SQLite file in DIR, PostgreSQL's
bench_report_<tasks>) and BENCH_REPORT_REUSE=1 measures a kept database again (migrated to the
current schema and ANALYZEd first) instead of building it.

Data: see bench/report_data.py (40 wards, discharges over 24 months, one discharge-nurse task
per visit, ~80% completed, records, questionnaire answers; raw COPY / executemany, indexes
built after the load, VACUUM ANALYZE / ANALYZE). Built once per database; generation time
reported separately.

Measured in one worker process, warm (each once untimed first), alternating, best of
BENCH_REPORT_RUNS (default 3):
(a) `department_figures(month, today=TODAY)` — its statements and the Python around them
    (each statement also timed alone, rows fetched);
(b) one hand-written SQL statement returning every Figures count per department (due,
    completed, unreachable, overdue, excluded, on_time, phone, home_visit, other_channel,
    discharges, the ratings per dimension and rating, the 总评价 counts) under the same rules
    (latest response only; the record's 总评价, else the answers'; active inpatient
    discharges): the month's tasks read once into a MATERIALIZED CTE, each completed task's
    latest response from it, then one GROUP BY over a UNION ALL of tasks, discharges,
    answers and 总评价 rows (``hand_sql``).
The two must give identical numbers for every department (the run fails otherwise).
Goal (issue 7): (a) ≤ 1.5× (b) on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

from bench.common import TemplateScratch, each_database, fingerprint, timed_step

DBS = [d.strip() for d in os.environ.get("BENCH_DBS", "sqlite,postgresql").split(",") if d]
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres:careloop@127.0.0.1:5432/")
PG_PREFIX = "bench_report"  # databases bench_report_<tasks> (a smoke run cannot drop a big one)
DEFAULT_TASKS = {"postgresql": 5_000_000, "sqlite": 1_000_000}
MONTHS = [m.strip() for m in os.environ.get("BENCH_REPORT_MONTH", "2025-07").split(",") if m]
EXPLAIN = os.environ.get("BENCH_REPORT_EXPLAIN", "") not in ("", "0")
VARIANTS = os.environ.get("BENCH_REPORT_VARIANTS", "") not in ("", "0")
PROPOSALS = os.environ.get("BENCH_REPORT_PROPOSALS", "") not in ("", "0")
KEEP = os.environ.get("BENCH_REPORT_KEEP", "")
REUSE = os.environ.get("BENCH_REPORT_REUSE", "") not in ("", "0")
RUNS = int(os.environ.get("BENCH_REPORT_RUNS", "3"))
GOAL = 1.5  # (a) within 1.5× (b) on PostgreSQL

# The reports indexes of followup 0005 (dropped for one proposal scenario, then rebuilt).
REPORT_INDEXES = [("followup_task_wend_idx", "window_end"),
                  ("followup_task_done_at_idx", "completed_at")]  # fmt: skip


def _say(text: str) -> None:
    print(text, flush=True)


def _tasks(vendor: str) -> int:
    value = os.environ.get("BENCH_REPORT_TASKS")
    return int(value) if value else DEFAULT_TASKS[vendor]


# --- the worker (a fresh process per step: python -m bench.report_bench ACTION JSON) ---------


def _period_and_today(args: dict):
    from careloop.reports.periods import parse

    return parse(args["month"]), dt.date.fromisoformat(args["today"])


def _statuses():
    from careloop.followup.choices import OPEN_STATUSES

    return ("completed", "unreachable"), tuple(str(s) for s in OPEN_STATUSES)


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def hand_sql(vendor: str, variant: str = "cte") -> str:
    """(b): the month's numbers per department in one statement, written by hand.

    "cte" (the one measured as (b)): the month's tasks read once into a CTE, each task's latest
    response found from it, then one GROUP BY over a UNION ALL of the tasks, the discharges,
    the latest responses' answers and the 总评价 (the record's, else the answers'). Variants
    timed with BENCH_REPORT_VARIANTS: "lateral" (PostgreSQL only) — per task its answers
    counted into 28 columns by a LATERAL subquery; "grouped" — the month's tasks joined to
    records and latest responses' answers and grouped per task first.
    """
    from careloop.reports.definitions import COUNT_FIELDS
    from careloop.surveys.choices import Dimension
    from careloop.surveys.rates import RATINGS

    finished, open_ = _statuses()
    pairs = [(str(d), r) for d in Dimension.values for r in RATINGS]
    if vendor == "postgresql":
        on_day = "(t.completed_at AT TIME ZONE %(tz)s)::date"
    else:  # the hospital's zone has no daylight saving: a fixed offset (checked in _params)
        on_day = "date(t.completed_at, %(offset)s)"
    # R5 as two ranges (as reports.queries.finished_q writes it since followup 0005): the window
    # closed in the month, or it closes later and the task was finished in the month.
    counted = f"""(
               (t.status IN ({_in(finished)}) AND t.completed_at >= %(start_dt)s
                AND ((t.window_end >= %(start)s AND t.window_end < %(end)s)
                     OR (t.completed_at < %(end_dt)s AND t.window_end >= %(end)s)))
            OR (t.status IN ({_in(open_)}) AND t.window_end >= %(start)s
                AND t.window_end < %(last)s)
            OR (t.status = 'excluded' AND t.window_end >= %(start)s AND t.window_end < %(end)s))"""
    on_time = f"t.status = 'completed' AND {on_day} BETWEEN t.window_start AND t.window_end"
    discharges = """SELECT v.department_id, 2, {nulls}
        FROM patients_visit v
        WHERE v.visit_type = 'inpatient' AND v.status = 'active'
          AND v.discharged_at >= %(start_dt)s AND v.discharged_at < %(end_dt)s"""
    task = "u.src = 1 AND "
    counts = f"""count(*) FILTER (WHERE {task}u.status IN ({_in(finished + open_)})) AS due,
        count(*) FILTER (WHERE {task}u.status = 'completed') AS completed,
        count(*) FILTER (WHERE {task}u.status = 'unreachable') AS unreachable,
        count(*) FILTER (WHERE {task}u.status IN ({_in(open_)})) AS overdue,
        count(*) FILTER (WHERE {task}u.status = 'excluded') AS excluded,
        count(*) FILTER (WHERE {task}u.on_time) AS on_time,
        count(*) FILTER (WHERE {task}u.status = 'completed' AND u.channel = 'phone') AS phone,
        count(*) FILTER (WHERE {task}u.status = 'completed' AND u.channel = 'home_visit')
            AS home_visit,
        count(*) FILTER (WHERE {task}u.status = 'completed'
                         AND u.channel NOT IN ('phone', 'home_visit')) AS other_channel,
        count(*) FILTER (WHERE u.src = 2) AS discharges"""
    assert re.findall(r"AS (\w+)(?:,|$)", counts) == list(COUNT_FIELDS)

    if variant == "cte":
        ratings = ",\n        ".join(
            f"count(*) FILTER (WHERE u.src = 3 AND u.dim = '{d}' AND u.rating = '{r}') "
            f'AS "{d}__{r}"'
            for d, r in pairs
        )
        overall = ",\n        ".join(
            f"count(*) FILTER (WHERE u.src = 4 AND u.rating = '{r}') AS \"total__{r}\""
            for r in RATINGS
        )
        return f"""
WITH t AS MATERIALIZED (
    SELECT t.id, t.department_id, t.status, t.channel, {on_time} AS on_time
    FROM followup_followuptask t
    WHERE {counted}
), latest AS MATERIALIZED (
    SELECT t.id AS task_id, t.department_id, max(s.id) AS response_id
    FROM t JOIN surveys_response s ON s.task_id = t.id
    WHERE t.status = 'completed'
    GROUP BY t.id, t.department_id
)
SELECT u.dept, {counts},
        {ratings},
        {overall}
FROM (
    SELECT t.department_id AS dept, 1 AS src, t.status, t.channel, t.on_time,
           NULL AS dim, NULL AS rating
    FROM t
    UNION ALL
    {discharges.format(nulls="NULL, NULL, NULL, NULL, NULL")}
    UNION ALL
    SELECT l.department_id, 3, NULL, NULL, NULL, a.dimension, a.rating
    FROM latest l JOIN surveys_answer a ON a.response_id = l.response_id
    WHERE a.rating <> '' AND a.dimension <> ''
    UNION ALL
    SELECT t.department_id, 4, NULL, NULL, NULL, NULL, r.overall
    FROM t JOIN followup_followuprecord r ON r.task_id = t.id
    WHERE t.status = 'completed' AND r.overall <> ''
    UNION ALL
    SELECT l.department_id, 4, NULL, NULL, NULL, NULL, a.rating
    FROM latest l JOIN surveys_answer a ON a.response_id = l.response_id
    WHERE a.dimension = 'overall' AND a.rating <> ''
      AND NOT EXISTS (SELECT 1 FROM followup_followuprecord r
                      WHERE r.task_id = l.task_id AND r.overall <> '')
) u
GROUP BY u.dept"""

    answer_counts = ",\n            ".join(
        f"count(a.id) FILTER (WHERE a.dimension = '{d}' AND a.rating = '{r}') AS \"{d}__{r}\""
        for d, r in pairs
    )
    latest = "(SELECT max(s.id) FROM surveys_response s WHERE s.task_id = t.id)"
    sums = ",\n        ".join(f'sum(u."{d}__{r}") AS "{d}__{r}"' for d, r in pairs)
    # 总评价: the record's; for a completed task without one, its latest answers' overall.
    overall = ",\n        ".join(
        f"count(*) FILTER (WHERE u.status = 'completed' AND u.overall = '{r}')"
        f' + coalesce(sum(u."overall__{r}") FILTER (WHERE u.no_overall), 0) AS "total__{r}"'
        for r in RATINGS
    )
    nulls = ", ".join(["NULL"] * (5 + len(pairs)))
    if variant == "lateral":
        tasks = f"""SELECT t.department_id AS dept, 1 AS src, t.status, t.channel,
            {on_time} AS on_time,
            CASE WHEN t.status = 'completed' THEN r.overall END AS overall,
            coalesce(r.overall, '') = '' AS no_overall, x.*
        FROM followup_followuptask t
        LEFT JOIN followup_followuprecord r ON r.task_id = t.id
        CROSS JOIN LATERAL (
            SELECT {answer_counts}
            FROM surveys_answer a
            WHERE a.response_id = {latest} AND t.status = 'completed'
        ) x
        WHERE {counted}"""
    elif variant == "grouped":
        tasks = f"""SELECT t.department_id AS dept, 1 AS src, t.status, t.channel,
            {on_time} AS on_time,
            max(CASE WHEN t.status = 'completed' THEN r.overall END) AS overall,
            coalesce(max(r.overall), '') = '' AS no_overall,
            {answer_counts}
        FROM followup_followuptask t
        LEFT JOIN followup_followuprecord r ON r.task_id = t.id
        LEFT JOIN surveys_response s ON s.task_id = t.id AND t.status = 'completed'
            AND NOT EXISTS (SELECT 1 FROM surveys_response s2
                            WHERE s2.task_id = s.task_id AND s2.id > s.id)
        LEFT JOIN surveys_answer a ON a.response_id = s.id
        WHERE {counted}
        GROUP BY t.id"""
    else:
        raise ValueError(variant)
    return f"""
SELECT u.dept, {counts},
        {sums},
        {overall}
FROM (
    {tasks}
    UNION ALL
    {discharges.format(nulls=nulls)}
) u
GROUP BY u.dept"""


def _params(vendor: str, period, today) -> dict:
    from django.conf import settings
    from django.db import connection

    last = min(period.end, today)
    if vendor == "postgresql":
        return {"start": period.start, "end": period.end, "last": last,
                "start_dt": period.start_dt(), "end_dt": period.end_dt(),
                "tz": settings.TIME_ZONE}  # fmt: skip
    offsets = {period.start_dt().utcoffset(), period.end_dt().utcoffset()}
    if len(offsets) != 1:
        raise SystemExit("the time zone changes its offset inside the month: no fixed offset")
    hours = offsets.pop().total_seconds() / 3600
    ops = connection.ops
    return {"start": str(period.start), "end": str(period.end), "last": str(last),
            "start_dt": ops.adapt_datetimefield_value(period.start_dt()),
            "end_dt": ops.adapt_datetimefield_value(period.end_dt()),
            "offset": f"{hours:+g} hours"}  # fmt: skip


def _run_hand(sql: str, params: dict) -> dict[int, dict]:
    """Rows of (b) as {department_id: figures_to_dict-shaped dict}."""
    from django.db import connection

    from careloop.reports.definitions import COUNT_FIELDS
    from careloop.surveys.rates import RATINGS

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    out = {}
    for row in rows:
        values = dict(zip(names, row, strict=True))
        data = {name: int(values[name] or 0) for name in COUNT_FIELDS}
        ratings: dict[str, dict[str, int]] = {}
        for name, value in values.items():
            if "__" in name and not name.startswith("total__") and value:
                dim, rating = name.split("__")
                ratings.setdefault(dim, dict.fromkeys(RATINGS, 0))[rating] = int(value)
        data["ratings"] = ratings
        data["overall"] = {r: int(values[f"total__{r}"] or 0) for r in RATINGS}
        out[int(values["dept"])] = data
    return out


def _run_orm(period, today) -> dict[int, dict]:
    from careloop.reports.definitions import figures_to_dict
    from careloop.reports.queries import department_figures

    return {k: figures_to_dict(v) for k, v in department_figures(period, today=today).items()}


class _Recorder:
    """The statements (a) sends, with their parameters and times."""

    def __init__(self):
        self.calls: list[tuple[str, object, float]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.calls.append((sql, params, time.perf_counter() - start))


def _label(sql: str) -> str:
    """Which of department_figures' statements this is: its table and the tables it joins."""
    table = re.search(r'\bFROM "?(\w+)"?', sql)  # the first FROM (FILTER clauses come before)
    rest = sql[table.end() :] if table else ""
    joins = re.findall(r'(INNER|LEFT OUTER) JOIN "?(\w+)"?', re.split(r"\bWHERE\b", rest)[0])
    name = table.group(1) if table else "?"
    return name + "".join(f" {'+' if kind == 'INNER' else '⟕'} {t}" for kind, t in joins)


def _best(fn, runs: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), times, result


def _explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


def _query_times(fn, runs: int) -> tuple[list[dict], list]:
    """(a)'s statements, captured once, then each run alone with its rows fetched (SQLite does
    most of a statement's work while fetching), best of ``runs``."""
    from django.db import connection

    recorder = _Recorder()
    with connection.execute_wrapper(recorder):
        fn()
    calls = recorder.calls
    best = []
    for sql, params, _seconds in calls:
        times = []
        for _ in range(runs):
            with connection.cursor() as cursor:
                start = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                times.append(time.perf_counter() - start)
        best.append({"query": _label(sql), "seconds": min(times)})
    return best, calls


def measure(args: dict) -> dict:
    from django.db import connection

    period, today = _period_and_today(args)
    vendor = connection.vendor
    params = _params(vendor, period, today)
    sql = hand_sql(vendor)
    problems: list[str] = []

    # Warm: each once, untimed (pages in memory, imports done, statements prepared).
    orm = _run_orm(period, today)
    hand = _run_hand(sql, params)
    if orm != hand:
        problems.append(_diff(orm, hand))
    a_times, b_times = [], []
    for _ in range(RUNS):  # alternating, so that a drift on the machine hits both
        a_times.append(_best(lambda: _run_orm(period, today), 1)[0])
        b_times.append(_best(lambda: _run_hand(sql, params), 1)[0])
    queries, calls = _query_times(lambda: _run_orm(period, today), RUNS)
    res = {
        "a": min(a_times), "a_all": a_times, "b": min(b_times), "b_all": b_times,
        "departments": len(orm), "queries": queries, "problems": problems,
        "month_tasks": sum(f["due"] + f["excluded"] for f in orm.values()),
        "month_completed": sum(f["completed"] for f in orm.values()),
        "month_discharges": sum(f["discharges"] for f in orm.values()),
        "month_ratings": sum(sum(c.values()) for f in orm.values() for c in f["ratings"].values()),
        "variants": {}, "explain": {},
    }  # fmt: skip
    if args.get("variants"):
        for variant in ("lateral", "grouped") if vendor == "postgresql" else ("grouped",):
            other = hand_sql(vendor, variant)
            got = _run_hand(other, params)  # warm, and checked
            seconds, _all, _r = _best(lambda other=other: _run_hand(other, params), RUNS)
            res["variants"][variant] = {"seconds": seconds, "same": got == orm}
            if got != orm:
                problems.append(f"variant {variant}: " + _diff(orm, got))
    if args.get("explain"):
        slowest = max(range(len(calls)), key=lambda k: queries[k]["seconds"])
        a_sql, a_params, _s = calls[slowest]
        res["explain"] = {
            "a_slowest": queries[slowest]["query"],
            "a_sql": a_sql % tuple(_quote(p) for p in a_params) if a_params else a_sql,
            "a_plan": _explain(a_sql, a_params),
            "b_plan": _explain(sql, params),
        }
    connection.close()
    return res


def _quote(value) -> str:
    return f"'{value}'" if isinstance(value, (str, dt.date, dt.datetime)) else str(value)


def _diff(orm: dict, hand: dict) -> str:
    keys = sorted(set(orm) | set(hand))
    for k in keys:
        if orm.get(k) != hand.get(k):
            a, b = orm.get(k) or {}, hand.get(k) or {}
            fields = sorted(f for f in set(a) | set(b) if a.get(f) != b.get(f))
            detail = "; ".join(f"{f}: (a) {a.get(f)} (b) {b.get(f)}" for f in fields[:4])
            return f"(a) and (b) differ for department {k}: {detail}"
    return "(a) and (b) differ"


def _scenarios(vendor: str, existing: set[str]) -> list[tuple[str, list[str], list[str]]]:
    """(label, statements before, statements after)."""
    out: list[tuple[str, list[str], list[str]]] = [("as is", [], [])]
    if vendor == "postgresql":
        jit, rpc = "SET jit = off", "SET random_page_cost = 1.1"
        out += [
            ("SET jit = off", [jit], ["RESET jit"]),
            ("SET random_page_cost = 1.1", [rpc], ["RESET random_page_cost"]),
            ("jit off + random_page_cost 1.1", [jit, rpc], ["RESET ALL"]),
        ]
    have = [(name, column) for name, column in REPORT_INDEXES if name in existing]
    if have:
        out.append((
            "without " + " and ".join(name for name, _c in have) + " (before followup 0005)",
            [*(f"DROP INDEX {name}" for name, _c in have), "ANALYZE followup_followuptask"],
            [*(f"CREATE INDEX {name} ON followup_followuptask ({column})" for name, column in have),
             "ANALYZE followup_followuptask"],
        ))  # fmt: skip
    out.append((
        "index surveys_response (task_id, id)",
        ["CREATE INDEX bench_response_task_latest ON surveys_response (task_id, id)",
         "ANALYZE surveys_response"],
        ["DROP INDEX bench_response_task_latest", "ANALYZE surveys_response"],
    ))  # fmt: skip
    return out


def proposals(args: dict) -> dict:
    """Proposals measured in this database, each checked to give (a)'s numbers: PostgreSQL
    settings for the session, the reports indexes taken away (rebuilt after), a candidate
    index (created, measured, dropped)."""
    from django.db import connection

    period, today = _period_and_today(args)
    vendor = connection.vendor
    params = _params(vendor, period, today)
    sql = hand_sql(vendor)
    ref = _run_orm(period, today)
    with connection.cursor() as cursor:
        existing = set(connection.introspection.get_constraints(cursor, "followup_followuptask"))
    out = []
    for label, setup, teardown in _scenarios(vendor, existing):
        with connection.cursor() as cursor:
            start = time.perf_counter()
            for statement in setup:
                cursor.execute(statement)
            built = time.perf_counter() - start
        row: dict = {"scenario": label, "setup": built, "problems": []}
        try:
            fn = lambda: _run_orm(period, today)  # noqa: E731
            if fn() != ref:  # also the warm-up
                row["problems"].append("(a): different numbers from (a) as is")
            row["a"] = _best(fn, RUNS)[0]
            row["a_queries"] = _query_times(fn, RUNS)[0]
            if _run_hand(sql, params) != ref:
                row["problems"].append("(b): different numbers from (a) as is")
            row["b"] = _best(lambda: _run_hand(sql, params), RUNS)[0]
        finally:
            with connection.cursor() as cursor:
                for statement in teardown:
                    cursor.execute(statement)
        out.append(row)
    connection.close()
    return {"scenarios": out}


def refresh(args: dict) -> dict:
    """A kept database: apply new migrations (indexes the code now expects), statistics."""
    from django.core.management import call_command
    from django.db import connection

    from bench.report_data import BIG

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        for table in BIG:
            cursor.execute(f"ANALYZE {table}")
    connection.close()
    return {"seconds": time.perf_counter() - start}


def build(args: dict) -> dict:
    from bench.report_data import build as build_data

    return build_data(args)


ACTIONS = {"build": build, "measure": measure, "proposals": proposals, "refresh": refresh}


def main() -> None:
    import django

    action, args = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    django.setup()
    result = ACTIONS[action](args)
    sys.stdout.flush()
    print("\n" + json.dumps(result, default=str), flush=True)


# --- the orchestrator (python -m bench report) ----------------------------------------------


def _pg_exists(scratch: TemplateScratch, name: str) -> bool:
    import psycopg

    with psycopg.connect(scratch.admin_url, connect_timeout=5) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        )


def bench_database(vendor: str, tmp: Path, problems: list[str]) -> dict:
    from bench.report_data import TODAY

    n = _tasks(vendor)
    home = Path(KEEP) / vendor if KEEP else tmp / vendor
    home.mkdir(parents=True, exist_ok=True)
    pg_db = f"{PG_PREFIX}_{n}"
    scratch = TemplateScratch(
        vendor, home, server=PG_SERVER, db=f"{pg_db}_copy", template_db=pg_db,
        worker="bench.report_bench",
    )  # fmt: skip  # the copy is never made: measuring only reads
    meta = home / "build.json"
    res: dict = {"months": {}}
    try:
        kept = REUSE and meta.exists() and json.loads(meta.read_text()).get("asked") == n
        if kept and vendor == "postgresql":
            kept = _pg_exists(scratch, pg_db)
        if kept and vendor == "sqlite":
            kept = scratch.template.exists()
        if kept:
            res["build"] = json.loads(meta.read_text())
            scratch.env["DATABASE_URL"] = (
                scratch._url(pg_db) if vendor == "postgresql" else f"sqlite:///{scratch.template}"
            )
            timed_step(f"reusing the kept database ({n:,} tasks): migrate, ANALYZE",
                       lambda: scratch.worker("refresh"))  # fmt: skip
        else:
            for suffix in ("", "-wal", "-shm"):  # a kept file from an earlier run
                Path(f"{scratch.template}{suffix}").unlink(missing_ok=True)
            how = "COPY" if vendor == "postgresql" else "executemany"
            res["build"] = timed_step(
                f"migrate + generate {n:,} tasks (raw {how}, indexes after)",
                lambda: scratch.build(tasks=n),
            )
            res["build"]["asked"] = n
            if KEEP:
                meta.write_text(json.dumps(res["build"]))
        b = res["build"]
        rows = b["rows"]
        size = b.get("size_mb") or b.get("file_mb") or 0
        stats = b["seconds"] - b["load_seconds"] - b["index_seconds"]
        _say(f"    {b['tasks']:,} tasks, {rows['patients_visit']:,} visits, "
             f"{rows['patients_patient']:,} patients, {rows['followup_followuprecord']:,} records, "
             f"{rows['surveys_response']:,} responses, {rows['surveys_answer']:,} answers; "
             f"{b['departments']} departments; {size:,.0f} MB")  # fmt: skip
        _say(f"    generation {b['seconds']:.0f} s: load {b['load_seconds']:.0f} s, indexes "
             f"{b['index_seconds']:.0f} s, statistics {stats:.0f} s; {b['stats']}")  # fmt: skip
        for month in MONTHS:
            args = {"month": month, "today": TODAY.isoformat()}
            out = timed_step(
                f"measure R1 for {month}, all departments: (a) and (b), warm, best of {RUNS}",
                lambda args=args: scratch.worker(
                    "measure", **args, explain=EXPLAIN, variants=VARIANTS
                ),
            )
            res["months"][month] = out
            if PROPOSALS:
                out["proposals"] = timed_step(
                    f"proposals for {month}: settings, indexes, one at a time",
                    lambda args=args: scratch.worker("proposals", **args),
                )["scenarios"]
            found = list(out["problems"])
            for row in out.get("proposals", []):
                found += [f"{row['scenario']}: {text}" for text in row["problems"]]
            for text in found:
                _say(f"  !! {vendor} {month}: {text}")
                problems.append(f"{vendor} {month}: {text}")
    finally:
        if KEEP:
            where = scratch._url(pg_db) if vendor == "postgresql" else str(scratch.template)
            _say(f"  kept: {where}")
        else:
            scratch.drop()  # the SQLite file goes with the temporary directory
    return res


CODE_UNDER_TEST = [
    "careloop/reports/queries.py",
    "careloop/reports/definitions.py",
    "careloop/reports/periods.py",
    "careloop/followup/models.py",
    "careloop/surveys/models.py",
]


def _report(results: dict) -> list[tuple[str, bool, str]]:
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    goals = []
    _say("")
    _say("R1 for one month, all departments: (a) reports.queries.department_figures vs (b) one "
         f"hand-written SQL statement (warm, best of {RUNS}, same run, same machine)")  # fmt: skip
    _say(f"{'database':<11}{'tasks':>11}{'month':>9}{'month rows':>12}{'depts':>7}{'(a) ms':>10}"
         f"{'(b) ms':>10}{'(a)/(b)':>9}")  # fmt: skip
    for vendor, res in results.items():
        for month, m in res["months"].items():
            ratio = m["a"] / m["b"]
            _say(f"{title[vendor]:<11}{res['build']['tasks']:>11,}{month:>9}{m['month_tasks']:>12,}"
                 f"{m['departments']:>7}{m['a'] * 1000:>10.1f}{m['b'] * 1000:>10.1f}"
                 f"{ratio:>8.2f}×")  # fmt: skip
            if vendor == "postgresql":
                at = res["build"]["tasks"]
                note = "" if at >= 5_000_000 else f" (goal set at 5,000,000 tasks; this run {at:,})"
                goals.append((f"PostgreSQL {month}: (a) {m['a'] * 1000:.1f} ms = {ratio:.2f}× (b) "
                              f"{m['b'] * 1000:.1f} ms{note}", ratio <= GOAL, f"goal ≤ {GOAL}×"))  # fmt: skip
    for vendor, res in results.items():
        for month, m in res["months"].items():
            _report_month(title[vendor], month, m)
    return goals


def _report_month(title: str, month: str, m: dict) -> None:
    _say("")
    _say(f"{title} {month}: month rows = the month's counted tasks (due + excluded); "
         f"{m['month_completed']:,} completed, {m['month_discharges']:,} discharges, "
         f"{m['month_ratings']:,} ratings")  # fmt: skip
    _say(f"  runs: (a) {', '.join(f'{t * 1000:.1f}' for t in m['a_all'])} ms · "
         f"(b) {', '.join(f'{t * 1000:.1f}' for t in m['b_all'])} ms")  # fmt: skip
    total = sum(q["seconds"] for q in m["queries"])
    _say(f"  (a)'s statements, each alone with its rows fetched, best of {RUNS} "
         f"({total * 1000:.1f} ms together; (a) {m['a'] * 1000:.1f} ms):")  # fmt: skip
    for q in m["queries"]:
        _say(f"    {q['seconds'] * 1000:>9.1f} ms  {q['query']}")
    for name, v in m["variants"].items():
        _say(f"  (b) written as '{name}': {v['seconds'] * 1000:.1f} ms "
             f"({'same numbers' if v['same'] else 'DIFFERENT numbers'})")  # fmt: skip
    if m.get("proposals"):
        _say(f"  proposals, each alone (best of {RUNS}; (a)'s statements in brackets, ms):")
        for row in m["proposals"]:
            per = ", ".join(f"{q['seconds'] * 1000:.0f}" for q in row["a_queries"])
            setup = f" (set up in {row['setup']:.1f} s)" if row["setup"] > 0.05 else ""
            _say(f"    {row['scenario']}{setup}: (a) {row['a'] * 1000:.0f} ms [{per}], "
                 f"(b) {row['b'] * 1000:.0f} ms, (a)/(b) {row['a'] / row['b']:.2f}×")  # fmt: skip
    if m["explain"]:
        e = m["explain"]
        _say("")
        _say(f"  {title} {month}: the slowest statement of (a), {e['a_slowest']}:")
        _say("    " + re.sub(r"\s+", " ", e["a_sql"])[:2500])
        _say("  its plan:")
        _say("\n".join("    " + line for line in e["a_plan"].splitlines()))
        _say(f"  {title} {month}: the plan of (b):")
        _say("\n".join("    " + line for line in e["b_plan"].splitlines()))


def run() -> None:
    start = time.perf_counter()
    sizes = ", ".join(f"{v} {_tasks(v):,} tasks" for v in DBS)
    _say(f"report benchmark: R1 for {', '.join(MONTHS)}; {sizes}")
    measured = fingerprint(CODE_UNDER_TEST)
    _say(f"  code under test: {measured}")
    results, problems = each_database("report", DBS, PG_SERVER, bench_database)
    goals = _report(results)
    _say("")
    _say("Goals:")
    for text, ok, goal in goals:
        _say(f"  {'met   ' if ok else 'MISSED'}  {text} — {goal}")
    for text in problems:
        _say(f"  FAIL    {text}")
    _say(f"report benchmark finished in {time.perf_counter() - start:.0f} s ({measured})")
    if (now := fingerprint(CODE_UNDER_TEST)) != measured:
        _say(f"  !! the code under test changed during the run: now {now}")
    if problems:
        sys.exit("report benchmark: a check failed (see FAIL above)")


if __name__ == "__main__":
    main()
