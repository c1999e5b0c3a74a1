"""Issue 5: the agents' queue page under load (`python -m bench queue`).

2,000,000 follow-up tasks in PostgreSQL (BENCH_QUEUE_TASKS scales it), 20 concurrent agent
sessions (BENCH_QUEUE_AGENTS) each loading their own queue page (/workspace/) for
BENCH_QUEUE_SECONDS (default 30) through gunicorn; then the same sessions load a trivial
authenticated view (/bench/ping/, same middleware and server) for the same time; then both
again with each session loading once every BENCH_QUEUE_PACE seconds (default 2: an agent going
back to the queue), for latency at a working pace rather than at saturation. The load clients
run on the same machine as the server. Reported: p50/p95/p99 latency of each and the queue's
throughput (back to back) as a ratio to the trivial view's.
Goals: queue p95 ≤ 100 ms and ≥ 0.5× the trivial view's throughput.

Data (bench/queue_worker.py `build`, raw SQL with generate_series, then VACUUM ANALYZE): 240 agents, 5 departments,
the kf-phone policy; 400,000 patients and visits; tasks spread over 24 months, ~92% finished
(completed/unreachable/excluded), the rest open: due, planned or in progress, assigned to the
240 agents or waiting in the pool — each measured agent has a realistic 100–300 open tasks.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TASKS = int(os.environ.get("BENCH_QUEUE_TASKS", "2000000"))
AGENTS = int(os.environ.get("BENCH_QUEUE_AGENTS", "20"))
SECONDS = float(os.environ.get("BENCH_QUEUE_SECONDS", "30"))
WORKERS = int(os.environ.get("BENCH_QUEUE_WORKERS", "4"))
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres:careloop@127.0.0.1:5432/")
PG_DB = "careloop_bench_queue"
PORT = int(os.environ.get("BENCH_QUEUE_PORT", "8765"))
QUEUE_PATH = os.environ.get("BENCH_QUEUE_PATH", "/workspace/")
PACE = float(os.environ.get("BENCH_QUEUE_PACE", "2"))
GOAL_P95_MS = 100.0
GOAL_RATIO = 0.5


def _say(text: str) -> None:
    print(text, flush=True)


def _psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def _load(path: str, cookies: list[str], seconds: float, pace: float = 0.0) -> dict:
    """Every session in its own thread on a keep-alive connection: requests back to back
    (pace 0: saturation, for throughput) or one every ``pace`` seconds (an agent at work)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def session(cookie: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine = []
        if pace:  # agents do not all press reload at the same instant
            time.sleep(random.uniform(0, pace))
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "zh-hans"})
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                continue
            if response.status != 200:
                with lock:
                    errors.append(f"{response.status} {body[:200]!r}")
                continue
            mine.append(time.perf_counter() - started)
            if pace:
                time.sleep(max(0.0, pace - (time.perf_counter() - started)))
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=session, args=(c,)) for c in cookies]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if not latencies:
        raise SystemExit(f"no successful request to {path}: {errors[:3]}")
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, round(p / 100 * (len(ms) - 1)))]

    return {
        "requests": len(ms),
        "errors": len(errors),
        "first_errors": errors[:3],
        "rps": len(ms) / elapsed,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "mean": statistics.fmean(ms),
    }


def run() -> None:
    admin_url = urlunsplit(urlsplit(PG_SERVER)._replace(path="/postgres"))
    db_url = urlunsplit(urlsplit(PG_SERVER)._replace(path=f"/{PG_DB}"))
    tmp = Path(tempfile.mkdtemp(prefix="careloop-bench-queue-"))
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "bench.queue_settings",
        "CARELOOP_VAR_DIR": str(tmp / "var"),
        "CARELOOP_QUIET_DEV_KEYS": "1",
        "CARELOOP_SCHEDULER": "0",
        "PYTHONPATH": str(ROOT),
    }
    py = sys.executable
    _say(f"queue benchmark: {TASKS:,} tasks, {AGENTS} agent sessions, {SECONDS:.0f} s each, "
         f"gunicorn {WORKERS} workers (PostgreSQL)")  # fmt: skip
    _psql(admin_url, f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    _psql(admin_url, f"CREATE DATABASE {PG_DB}")
    server = None
    try:
        started = time.perf_counter()
        subprocess.run([py, "-m", "careloop", "migrate", "-v0"], env=env, check=True, cwd=ROOT)
        out = subprocess.run(
            [py, "-m", "bench.queue_worker", "build", json.dumps({"tasks": TASKS, "agents": AGENTS})],
            env=env, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode:
            raise SystemExit(f"data build failed:\n{out.stderr[-3000:]}")
        built = json.loads(out.stdout.strip().splitlines()[-1])
        _say(f"  build (migrate + raw SQL + ANALYZE) … {time.perf_counter() - started:.1f} s")
        _say(f"    {built['summary']}")
        server = subprocess.Popen(
            [str(Path(py).parent / "gunicorn"), "careloop.wsgi", "--bind", f"127.0.0.1:{PORT}",
             "--workers", str(WORKERS), "--log-level", "warning"],
            env=env, cwd=ROOT,
        )  # fmt: skip
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/")
                break
            except OSError:
                time.sleep(0.2)
        cookies = [f"sessionid={key}" for key in built["sessions"]]
        random.Random(5).shuffle(cookies)
        _load(QUEUE_PATH, cookies[:2], 3)  # warm the workers
        _load("/bench/ping/", cookies[:2], 2)
        queue = _load(QUEUE_PATH, cookies, SECONDS)
        ping = _load("/bench/ping/", cookies, SECONDS)
        paced = _load(QUEUE_PATH, cookies, SECONDS, pace=PACE)
        paced_ping = _load("/bench/ping/", cookies, SECONDS, pace=PACE)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        _psql(admin_url, f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    ratio = queue["rps"] / ping["rps"]
    _say("")
    _say("| page | requests | errors | req/s | p50 ms | p95 ms | p99 ms |")
    _say("|---|---|---|---|---|---|---|")
    for name, r in (
        (f"queue {QUEUE_PATH}, back to back", queue),
        ("trivial /bench/ping/, back to back", ping),
        (f"queue {QUEUE_PATH}, each agent every {PACE:g} s", paced),
        (f"trivial /bench/ping/, every {PACE:g} s", paced_ping),
    ):
        _say(f"| {name} | {r['requests']} | {r['errors']} | {r['rps']:.1f} | {r['p50']:.1f} | "
             f"{r['p95']:.1f} | {r['p99']:.1f} |")  # fmt: skip
    if queue["errors"] or ping["errors"]:
        _say(f"errors: {queue['first_errors'] or ping['first_errors']}")
    _say("")
    for label, r in (("back to back", queue), (f"each agent every {PACE:g} s", paced)):
        verdict = "PASS" if r["p95"] <= GOAL_P95_MS else "MISS"
        _say(f"  {verdict}  queue p95 ({label}) {r['p95']:.1f} ms — goal ≤ {GOAL_P95_MS:.0f} ms")
    _say(f"  {'PASS' if ratio >= GOAL_RATIO else 'MISS'}  queue throughput {ratio:.2f}× the "
         f"trivial view's — goal ≥ {GOAL_RATIO}×")  # fmt: skip
