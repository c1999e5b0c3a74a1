"""The periodic scheduler: due jobs enqueued once, failures retried, outcomes recorded."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from careloop.jobs import registry, scheduler
from careloop.jobs.models import ScheduledJob

pytestmark = pytest.mark.django_db(transaction=True)
NOW = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai

CALLS = {"n": 0, "fail_first": 0}


def counting_job():
    CALLS["n"] += 1
    if CALLS["n"] <= CALLS["fail_first"]:
        raise RuntimeError("数据库暂时不可用")
    return {"calls": CALLS["n"]}


@pytest.fixture
def job():
    CALLS.update(n=0, fail_first=0)
    spec = registry.register(
        "test-counting",
        f"{__name__}.counting_job",
        every=timedelta(minutes=10),
        retry_delay=timedelta(0),
    )
    yield spec
    registry._JOBS.pop("test-counting")


def run_worker():
    call_command(
        "db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0
    )


def test_daily_job_runs_at_its_local_time():
    spec = registry.get("prune-task-results")  # daily 03:15 local
    nxt = spec.next_run_after(NOW)
    assert nxt.isoformat() == "2026-11-24T03:15:00+08:00"


def test_a_due_job_is_enqueued_once_however_often_the_schedulers_tick(job):
    with time_machine.travel(NOW, tick=False) as clock:
        scheduler.ensure_rows()
        assert scheduler.tick() == []  # first run is one interval after registration
        clock.shift(timedelta(minutes=10))
        first = scheduler.tick()
        second = scheduler.tick()  # a second worker ticking at the same moment
        assert first.count("test-counting") == 1 and "test-counting" not in second
        assert DBTaskResult.objects.filter(args_kwargs__args=["test-counting"]).count() == 1
        row = ScheduledJob.objects.get(name="test-counting")
        assert row.next_run_at == NOW + timedelta(minutes=20)


def test_worker_runs_the_job_and_records_the_outcome(job):
    scheduler.run_now("test-counting")
    run_worker()
    row = ScheduledJob.objects.get(name="test-counting")
    assert (row.last_status, row.runs, row.failures, row.last_summary) == ("ok", 1, 0, {"calls": 1})


def test_a_failing_job_is_retried_until_it_succeeds(job):
    CALLS["fail_first"] = 2
    scheduler.run_now("test-counting")
    run_worker()  # attempt 1 fails and enqueues 2; 2 fails and enqueues 3; 3 succeeds
    row = ScheduledJob.objects.get(name="test-counting")
    assert CALLS["n"] == 3
    assert (row.last_status, row.runs, row.failures) == ("ok", 1, 2)
    assert DBTaskResult.objects.filter(status="FAILED").count() == 2


def test_retries_stop_after_max_attempts(job):
    CALLS["fail_first"] = 99
    scheduler.run_now("test-counting")
    run_worker()
    row = ScheduledJob.objects.get(name="test-counting")
    assert CALLS["n"] == 3
    assert row.last_status == "failed" and "数据库暂时不可用" in row.last_error


def test_jobs_page_lists_jobs_and_runs_one_now(personas, client, job):
    client.force_login(personas["sysadmin"])
    page = client.get("/jobs/")
    assert page.status_code == 200
    assert "clear-sessions" in page.content.decode() and "test-counting" in page.content.decode()
    assert client.post("/jobs/test-counting/run/").status_code == 302
    assert ScheduledJob.objects.get(name="test-counting").last_status == "queued"
    client.force_login(personas["agent"])
    assert client.post("/jobs/test-counting/run/").status_code == 403
