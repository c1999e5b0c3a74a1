"""P4.2 throughput: 5,000 ADT^A03 messages through MLLP into `careloop hl7 listen` on PostgreSQL,
ACK after commit, against a bare echo server on python-hl7's asyncio MLLP server, same run.

The bench creates its own scratch database (careloop_bench_hl7, on the server of DATABASE_URL,
default postgres://postgres:careloop@127.0.0.1:5432/careloop), migrates it, loads the
departments, staff and N admitted inpatients the A03s discharge (through the same upsert the
file import uses), runs the listener as a real subprocess and drops the database at the end.
Each A03 carries the full PID, PV1 with discharge time and disposition, and two final DG1
diagnoses that replace the admission diagnosis — the work a real discharge does.

Both servers get the same client: BENCH_HL7_CLIENTS concurrent MLLP connections (default 8;
"8,32" runs one round each) on hl7.mllp's asyncio client, each sending its share one message
at a time and waiting for the ACK (HL7 original mode). Every ACK must be AA, and the rows are
counted afterwards.

    .venv/bin/python -m bench hl7
    BENCH_HL7_MESSAGES=5000 BENCH_HL7_CLIENTS=8 BENCH_HL7_WORKERS=1 BENCH_HL7_BATCH=100
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

N = int(os.environ.get("BENCH_HL7_MESSAGES", "5000"))
# One round per entry: "8" (the default) or e.g. "8,32" to see how the group commit scales.
CLIENTS = [int(c) for c in os.environ.get("BENCH_HL7_CLIENTS", "8").split(",")]
WORKERS = int(os.environ.get("BENCH_HL7_WORKERS", "1"))
BATCH = int(os.environ.get("BENCH_HL7_BATCH", "100"))
WARMUP = 200
SCRATCH = "careloop_bench_hl7"
ROOT = Path(__file__).resolve().parent.parent

ECHO_SERVER = """
import asyncio, sys
import hl7
from hl7.mllp import start_hl7_server

async def handle(reader, writer):
    try:
        while not writer.is_closing():
            message = await reader.readmessage()
            writer.writemessage(message.create_ack())
            await writer.drain()
    except asyncio.IncompleteReadError:
        pass
    finally:
        writer.close()

async def main(port):
    server = await start_hl7_server(handle, "127.0.0.1", port, encoding="utf-8")
    print("ready", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main(int(sys.argv[1])))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"服务进程已退出：{proc.stdout.read() if proc.stdout else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"端口 {port} 未就绪")


def _messages(start: int, count: int) -> list[bytes]:
    from careloop.intake.hl7.samples import adt

    return [
        adt(
            "A03",
            control_id=f"B{i:07d}",
            patient_no=f"P{i:07d}",
            name=f"张^{i % 1000}",
            sex="M" if i % 2 else "F",
            birth=f"19{40 + i % 60:02d}0{1 + i % 9}15",
            phones=f"139{i:08d}",
            visit_no=f"Z{i:07d}",
            department="XNK" if i % 2 else "GK",
            doctor="D001^李^医生",
            admitted="20260301080000",
            discharged="20260310093000",
            disposition="1",
            diagnoses=(("I21.0", "急性前壁心肌梗死", "F", "1"), ("I10", "原发性高血压", "F")),
        ).encode("utf-8")
        for i in range(start, start + count)
    ]


async def _client(port: int, messages: list[bytes], latencies: list[float]) -> int:
    from hl7.mllp import open_hl7_connection

    reader, writer = await open_hl7_connection("127.0.0.1", port, limit=1 << 20)
    ok = 0
    try:
        for message in messages:
            sent = time.perf_counter()
            writer.writeblock(message)
            await writer.drain()
            ack = await reader.readblock()
            latencies.append(time.perf_counter() - sent)
            ok += b"MSA|AA|" in ack
    finally:
        writer.close()
        await writer.wait_closed()
    return ok


def _drive(port: int, messages: list[bytes], clients: int) -> tuple[float, int, list[float]]:
    """Send ``messages`` over ``clients`` connections; (seconds, AA count, latencies)."""
    shares = [messages[i::clients] for i in range(clients)]
    latencies: list[float] = []

    async def main():
        return await asyncio.gather(*(_client(port, share, latencies) for share in shares))

    started = time.perf_counter()
    oks = asyncio.run(main())
    return time.perf_counter() - started, sum(oks), latencies


def _admin_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _scratch_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{SCRATCH}"))


def _recreate(admin: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{SCRATCH}"')


def _seed(total: int) -> None:
    """Departments, the attending doctor, and the admitted visits the A03s discharge."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.db import transaction

    from careloop.accounts.models import User
    from careloop.intake.rows import VisitRow
    from careloop.intake.upsert import Resolver, apply_rows
    from careloop.org.models import Department

    Department.objects.create(code="XNK", name="心血管内科病区", kind="inpatient")
    Department.objects.create(code="GK", name="骨科病区", kind="inpatient")
    User.objects.create_user(username="d001", staff_no="D001", full_name="李医生")
    tz = ZoneInfo("Asia/Shanghai")
    resolver = Resolver()
    present = frozenset(
        {"name", "sex", "birth_date", "phone", "address", "visit_type", "visit_no",
         "department", "attending_doctor", "admitted_at", "diagnosis", "icd10"}
    )  # fmt: skip
    for start in range(0, total, 2000):
        rows = []
        for i in range(start, min(start + 2000, total)):
            rows.append(
                (
                    i,
                    VisitRow(
                        patient_no=f"P{i:07d}",
                        name=f"张{i % 1000}",
                        visit_type="inpatient",
                        visit_no=f"Z{i:07d}",
                        department="XNK" if i % 2 else "GK",
                        sex="1" if i % 2 else "2",
                        birth_date=dt.date(1940 + i % 60, 1 + i % 9, 15),
                        phones=[f"139{i:08d}"],
                        address="北京市东城区东四十条1号",
                        attending_doctor="李医生",
                        admitted_at=dt.datetime(2026, 3, 1, 8, tzinfo=tz),
                        diagnoses=[("I21.0", "急性心肌梗死（入院）")],
                        present=present,
                    ),
                )
            )
        with transaction.atomic():
            apply_rows(rows, "import", resolver)


def _count() -> dict:
    from careloop.intake.models import HL7Message
    from careloop.patients.models import Diagnosis, Visit

    return {
        "applied": HL7Message.objects.filter(status="applied").count(),
        "discharged": Visit.objects.filter(discharged_at__isnull=False).count(),
        "diagnoses": Diagnosis.objects.count(),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def run() -> None:
    base = os.environ.get("DATABASE_URL", "postgres://postgres:careloop@127.0.0.1:5432/careloop")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench hl7 需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
    admin, scratch = _admin_dsn(base), _scratch_url(base)
    _recreate(admin)
    env = {**os.environ, "DATABASE_URL": scratch, "CARELOOP_QUIET_DEV_KEYS": "1"}
    env["CARELOOP_LOG_LEVEL"] = "WARNING"
    os.environ.update({"DATABASE_URL": scratch, "CARELOOP_LOG_LEVEL": "WARNING"})
    listener = echo = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        total = WARMUP + N * len(CLIENTS)
        _seed(total)
        connections.close_all()
        warm = _messages(0, WARMUP)
        # Each round discharges visits of its own: an A03 for a discharged visit is less work.
        rounds = [_messages(WARMUP + i * N, N) for i in range(len(CLIENTS))]

        port = _free_port()
        echo = subprocess.Popen(
            [sys.executable, "-c", ECHO_SERVER, str(port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        _wait_port(port, echo)
        _drive(port, warm, CLIENTS[0])
        echoes = [_drive(port, rounds[0], clients) for clients in CLIENTS]
        echo.terminate()
        echo.wait()

        port = _free_port()
        listener = subprocess.Popen(
            [str(ROOT / ".venv/bin/careloop"), "hl7", "listen", "--port", str(port),
             "--workers", str(WORKERS), "--batch", str(BATCH)],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        _wait_port(port, listener)
        _drive(port, warm, CLIENTS[0])
        ours = [_drive(port, messages, c) for messages, c in zip(rounds, CLIENTS, strict=True)]
        listener.terminate()
        listener.wait(timeout=60)
        summary = [line for line in listener.stdout.read().splitlines() if "共处理" in line]
        counts = _count()
        connections.close_all()

        print(
            f"PostgreSQL, {N} × ADT^A03 per round (+{WARMUP} warm-up), "
            f"listener workers={WORKERS} batch≤{BATCH}, {os.cpu_count()} CPUs"
        )
        print(
            f"{'server':<30}{'conns':>6}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'AA':>7}{'ratio':>8}"
        )
        for clients, (echo_s, echo_ok, echo_lat), (ours_s, ours_ok, ours_lat) in zip(
            CLIENTS, echoes, ours, strict=True
        ):
            for name, seconds, ok, lat in (
                ("echo (python-hl7 asyncio)", echo_s, echo_ok, echo_lat),
                ("careloop hl7 listen", ours_s, ours_ok, ours_lat),
            ):
                ratio = f"{echo_s / seconds:.2f}×" if name.startswith("careloop") else ""
                print(
                    f"{name:<30}{clients:>6}{N / seconds:>9.0f}{_percentile(lat, 0.5):>9.1f}"
                    f"{_percentile(lat, 0.99):>9.1f}{ok:>7}{ratio:>8}"
                )
        print("goal: ≥ 500 msg/s and ≥ 0.3× the echo server (ratio = listener/echo, same run)")
        if summary:  # messages per transaction: how much the group commit merged
            print(f"listener: {summary[-1].strip()}")
        print(
            f"rows: {counts['applied']} applied messages, {counts['discharged']} discharged "
            f"visits, {counts['diagnoses']} diagnoses (expected {total}, {total}, {2 * total})"
        )
        if (
            any(ok != N for _s, ok, _l in ours)
            or counts["applied"] != total
            or (counts["discharged"] != total)
        ):
            raise SystemExit("结果不符：并非所有消息都已应答 AA 并写入")
    finally:
        for proc in (echo, listener):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        with contextlib.suppress(Exception):  # Django may not be set up yet
            from django.db import connections

            connections.close_all()
        _recreate(admin, drop_only=True)
