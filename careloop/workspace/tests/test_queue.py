"""F6/F7/F12: today's queue — contents, order, flags, counts, scope, speed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from careloop.followup.choices import TaskStatus
from careloop.followup.tests.uihelpers import client_for
from careloop.workspace import queue as q
from careloop.workspace.tests.conftest import IN_HOURS, OUT_OF_HOURS, TZ

pytestmark = pytest.mark.django_db


def queue_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-task="(\d+)"', html)]


@pytest.fixture
def mixed(people, build):
    agent, agent2 = people["agent"], people["agent2"]
    d = dt.date
    return {
        # Unassigned pool, window closes late: callable in hours, listed after the urgent ones.
        "pool_late": build.task(start=d(2026, 3, 30), end=d(2026, 4, 10)),
        # Mine, window closes soon.
        "mine_soon": build.task(assignee=agent, start=d(2026, 3, 28), end=d(2026, 4, 3)),
        # Overdue: the window closed yesterday (F7), still due.
        "overdue": build.task(assignee=agent, start=d(2026, 3, 20), end=d(2026, 3, 31)),
        # Rescheduled to 16:00 today (F8): listed with its time, not callable before it.
        "later": build.task(
            assignee=agent,
            start=d(2026, 3, 30),
            end=d(2026, 4, 2),
            next_attempt_at=dt.datetime(2026, 4, 1, 16, 0, tzinfo=TZ),
        ),
        # Not in my queue: another agent's, a future window, excluded, completed, in progress
        # by another agent.
        "other": build.task(assignee=agent2, start=d(2026, 3, 30)),
        "future": build.task(start=d(2026, 4, 5)),
        "excluded": build.task(status=TaskStatus.EXCLUDED, exclusion="E1", start=d(2026, 3, 30)),
        "done": build.task(
            assignee=agent,
            status=TaskStatus.COMPLETED,
            start=d(2026, 3, 30),
            completed_at=dt.datetime(2026, 4, 1, 9, 0, tzinfo=TZ),
        ),
        "claimed": build.task(assignee=agent2, status=TaskStatus.IN_PROGRESS, start=d(2026, 3, 30)),
    }


@time_machine.travel(IN_HOURS, tick=False)
def test_queue_lists_mine_and_pool_callable_first_then_by_window_end_F6(people, mixed):
    html = client_for(people["agent"]).get("/workspace/").content.decode()
    # Callable now (in hours, no agreed time pending) by window_end; the rescheduled one last.
    assert queue_ids(html) == [
        mixed["overdue"].pk,
        mixed["mine_soon"].pk,
        mixed["pool_late"].pk,
        mixed["later"].pk,
    ]
    rows = dict(re.findall(r'<tr data-task="(\d+)"[^>]*>(.*?)</tr>', html, re.S))
    assert 'data-flag="overdue"' in rows[str(mixed["overdue"].pk)]
    assert 'data-flag="overdue"' not in rows[str(mixed["mine_soon"].pk)]
    assert 'data-flag="callable"' in rows[str(mixed["pool_late"].pk)]
    later = rows[str(mixed["later"].pk)]
    assert 'data-flag="callable"' not in later and "约定 04-01 16:00 再回访" in later


@time_machine.travel(OUT_OF_HOURS, tick=False)
def test_outside_call_hours_nothing_is_callable_but_the_queue_is_listed_F6(people, mixed):
    html = client_for(people["agent"]).get("/workspace/").content.decode()
    assert 'data-flag="callable"' not in html
    # Plain window_end order: overdue (03-31), later (04-02), mine_soon (04-03), pool (04-10).
    assert queue_ids(html) == [
        mixed["overdue"].pk,
        mixed["later"].pk,
        mixed["mine_soon"].pk,
        mixed["pool_late"].pk,
    ]


@time_machine.travel(dt.datetime(2026, 4, 1, 16, 30, tzinfo=TZ), tick=False)
def test_rescheduled_task_is_callable_from_its_agreed_time_F8(people, mixed):
    rows = {t.pk: t for t in q.decorate(q.fetch_rows(list(q.ordered_queue(people["agent"]))))}
    assert rows[mixed["later"].pk].is_callable and not rows[mixed["later"].pk].waiting


@time_machine.travel(IN_HOURS, tick=False)
def test_counts_due_overdue_done_today(people, mixed):
    counts = q.queue_counts(people["agent"])
    assert (counts.due, counts.overdue, counts.done_today, counts.waiting) == (3, 1, 1, 1)
    html = client_for(people["agent"]).get("/workspace/").content.decode()
    assert 'data-count="due">3<' in html
    assert 'data-count="overdue">1<' in html
    assert 'data-count="done_today">1<' in html


@time_machine.travel(IN_HOURS, tick=False)
def test_nurse_sees_only_her_own_tasks_not_the_pool_F12(people, build, nurse_stage):
    nurse = people["cardio_nurse"]
    own = build.task(stage=nurse_stage, assignee=nurse, start=dt.date(2026, 3, 30))
    build.task(start=dt.date(2026, 3, 30))  # pool
    html = client_for(nurse).get("/workspace/").content.decode()
    assert queue_ids(html) == [own.pk]


@time_machine.travel(IN_HOURS, tick=False)
def test_filters_department_stage_channel(people, build, nurse_stage):
    cardio = build.task(start=dt.date(2026, 3, 30))
    ortho = build.task(dept="ortho", start=dt.date(2026, 3, 30))
    client = client_for(people["agent"])
    ids = queue_ids(client.get("/workspace/", {"department": ortho.department_id}).content.decode())
    assert ids == [ortho.pk]
    assert queue_ids(client.get("/workspace/", {"channel": "sms"}).content.decode()) == []
    assert cardio.pk in queue_ids(
        client.get("/workspace/", {"stage": cardio.stage_id}).content.decode()
    )


@time_machine.travel(IN_HOURS, tick=False)
def test_queue_page_is_a_handful_of_queries(people, build, django_assert_max_num_queries):
    for _ in range(60):
        build.task(start=dt.date(2026, 3, 30))
    client = client_for(people["agent"])
    client.get("/workspace/")  # warm the session, the calendar, the permission caches
    # 5 for the session, the user, its permissions and roles; then the counts (my tasks, the
    # pool, done today), the calendar's version, the policies' call hours, the page's ids and
    # its rows, and the two filter lists; one more for the inbox's unread badge (navigation).
    with django_assert_max_num_queries(15):
        response = client.get("/workspace/")
    assert len(queue_ids(response.content.decode())) == 50
    assert "1 / 2" in response.content.decode()


def test_queue_needs_the_task_permission(people):
    assert client_for(people["auditor"]).get("/workspace/").status_code == 403


def test_queue_sql_uses_the_two_indexed_ranges(people):
    sql = str(q.ordered_queue(people["agent"]).query)
    assert '"assignee_id" =' in sql and '"assignee_id" IS NULL' in sql
    assert '"window_start" <=' in sql
    assert timezone.localdate()  # keep the import used
