"""S4 / P4.1: `careloop import visits FILE` killed with SIGKILL in the middle of its work leaves the
database exactly at a batch boundary, and running the same command again ends in exactly the
state of an uninterrupted run.

The import runs as a real subprocess against this test's database (a file for SQLite, the
test database for PostgreSQL), with the same CARELOOP_VAR_DIR so the encryption and blind
index keys match.
"""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from careloop.intake.choices import RunStatus
from careloop.intake.importer import BATCH_SIZE
from careloop.intake.models import ImportRun
from careloop.intake.tests.factories import (
    delete_patient_data,
    many_rows,
    natural_dump,
    write_csv,
)
from careloop.patients.models import Visit

# 15 batches of 2,000 over ~10,000 patients (each patient on ~3 rows, with the same data on
# each). Three runs of it take ~45 s on a loaded 2-core machine; CARELOOP_KILL_TEST_ROWS
# makes it smaller or larger.
ROWS = int(os.environ.get("CARELOOP_KILL_TEST_ROWS", "30000"))
PROGRESS = re.compile(r"^已处理 (\d+)/(\d+) 行$")
VISIT_TYPES = {"住院": "inpatient", "门诊": "outpatient"}


def database_url() -> str:
    sd = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{sd['NAME']}"
    assert connection.vendor == "postgresql", connection.vendor
    user = quote(sd["USER"] or "postgres", safe="")
    password = quote(sd["PASSWORD"] or "", safe="")
    host, port = sd["HOST"] or "127.0.0.1", sd["PORT"] or "5432"
    return f"postgres://{user}:{password}@{host}:{port}/{sd['NAME']}"


def command(path: Path) -> tuple[list[str], dict[str, str]]:
    script = Path(sys.executable).with_name("careloop")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "careloop"]
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        CARELOOP_VAR_DIR=str(settings.VAR_DIR),
        CARELOOP_QUIET_DEV_KEYS="1",
    )
    return [*argv, "import", "visits", str(path)], env


def run_to_completion(path: Path) -> subprocess.CompletedProcess:
    argv, env = command(path)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    return done


def start_and_kill(path: Path, total: int, rng: random.Random) -> int | None:
    """Start the import, SIGKILL it somewhere inside a batch after the first committed one;
    return the number of rows the last progress line reported, or None if it finished first."""
    argv, env = command(path)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    lines: queue.Queue = queue.Queue()

    def pump():  # never let a full stderr pipe stall the child
        for line in proc.stderr:
            lines.put((time.monotonic(), line.rstrip("\n")))
        lines.put((time.monotonic(), None))

    threading.Thread(target=pump, daemon=True).start()
    seen: list[tuple[float, int]] = []
    try:
        while True:
            stamp, line = lines.get(timeout=120)
            if line is None:
                return None  # finished (or died) before we could kill it
            match = PROGRESS.match(line)
            if not match:
                continue
            done, of = int(match[1]), int(match[2])
            assert of == total
            if done >= total:
                return None
            seen.append((stamp, done))
            if len(seen) == 2:
                # Somewhere inside the third batch: parsing, writing or committing.
                batch_seconds = seen[1][0] - seen[0][0]
                time.sleep(rng.uniform(0.0, 0.9) * batch_seconds)
                if proc.poll() is not None:
                    return None
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                assert proc.returncode == -signal.SIGKILL
                return done
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def prefix_of(reference: dict, keys: set[tuple[str, str]]) -> dict:
    """What ``reference`` (a full run) holds for the visits in ``keys`` alone."""
    visits = [v for v in reference["visits"] if (v[0], v[1]) in keys]
    patient_nos = {v[2] for v in visits}
    events = [e for e in reference["events"] if e[1] in keys]
    died = {e[0]: e[3] for e in events if e[2] == "death"}
    return {
        # A patient's death is known once one of the death visits has been imported.
        "patients": [
            (*p[:7], p[0] in died, died.get(p[0]), *p[9:])
            for p in reference["patients"]
            if p[0] in patient_nos
        ],
        "phones": [p for p in reference["phones"] if p[0] in patient_nos],
        "visits": visits,
        "diagnoses": [d for d in reference["diagnoses"] if (d[0], d[1]) in keys],
        "events": events,
    }


@pytest.mark.django_db(transaction=True)
def test_import_killed_mid_batch_and_rerun_ends_as_an_uninterrupted_run_S4(org, tmp_path):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    rows = ROWS
    for _attempt in range(3):
        data = many_rows(rows)
        path = write_csv(tmp_path / f"visits-{rows}.csv", data)
        keys = [(VISIT_TYPES[r[7]], r[8]) for r in data[1:]]
        assert len(set(keys)) == rows

        # 1. The uninterrupted run, as the reference.
        done = run_to_completion(path)
        assert done.stdout == f"新增 {rows}，更新 0，未变 0，失败 0 行\n"
        reference = natural_dump()
        assert len(reference["visits"]) == rows
        assert len(reference["events"]) == len({r[0] for r in data[1:] if r[16] == "5"})
        delete_patient_data()
        assert Visit.objects.count() == 0

        # 2. The same file, killed with SIGKILL while a batch is in flight.
        reported = start_and_kill(path, rows, rng)
        if reported is not None:
            break
        # It finished before we could kill it (a fast machine): a bigger file, not a pass.
        delete_patient_data()
        rows *= 2
    else:
        pytest.fail(f"the import always finished before it could be killed (seed {seed})")

    # Exactly at a batch boundary: the run's counters were committed with the batches they
    # count, so they name the rows that are in the database — no half batch.
    killed = ImportRun.objects.order_by("-pk").first()
    assert (killed.status, killed.total_rows) == (RunStatus.RUNNING, rows)
    committed = killed.processed_rows
    assert committed % BATCH_SIZE == 0, (committed, seed)
    assert reported <= committed < rows, (reported, committed, seed)
    assert (killed.created, killed.updated, killed.unchanged, killed.failed) == (committed, 0, 0, 0)
    assert Visit.objects.count() == committed
    assert natural_dump() == prefix_of(reference, set(keys[:committed])), seed

    # 3. The same command again: the committed batches are unchanged, the rest is new, and the
    # end state is the uninterrupted run's, table for table.
    done = run_to_completion(path)
    assert done.stdout == f"新增 {rows - committed}，更新 0，未变 {committed}，失败 0 行\n"
    final = natural_dump()
    for table in reference:
        assert final[table] == reference[table], (table, seed)
    runs = ImportRun.objects.order_by("pk").values_list("status", "processed_rows")
    assert list(runs)[-3:] == [
        (RunStatus.FINISHED, rows),
        (RunStatus.RUNNING, committed),  # a killed run stays as it was at its last commit
        (RunStatus.FINISHED, rows),
    ]
