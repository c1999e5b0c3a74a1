"""Issue 7 item 6: the home page per role — agents their day, nurses and doctors their own
tasks, department heads their department, the hospital's offices and leadership the hospital;
every number a link to the list behind it (R5). Time is frozen on Wednesday 2026-04-15 10:30:
"this month" is April, "last month" March."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
import time_machine
from django.http import HttpResponse
from django.urls import include, path, reverse

from careloop.accounts.roles import Role
from careloop.followup.choices import TaskStatus
from careloop.followup.tests.uihelpers import client_for, make_policy, make_stage, make_task
from careloop.followup.tests.uihelpers import make_visit as ui_visit

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 4, 15, 10, 30, tzinfo=TZ)
TODAY = "2026-04-15"
APRIL = {"completed_from": "2026-04-01", "completed_to": "2026-04-30"}
d = dt.date


def at(day: int, hour: int = 10, month: int = 4) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=TZ)


# -- the report pages are written in parallel: stand-ins for the names not there yet, so the
# links these tests assert do not depend on which report page exists today.

REPORT_PAGES = ("monthly", "drill", "ranking", "summary_list")


def _stand_in(request):
    return HttpResponse("")


def _urlpatterns():
    from careloop import urls as root
    from careloop.reports import urls as reports_urls

    have = {getattr(p, "name", None) for p in reports_urls.urlpatterns}
    stand_ins = [path(f"_{n}/", _stand_in, name=n) for n in REPORT_PAGES if n not in have]
    out = [p for p in root.urlpatterns if getattr(p, "namespace", None) != "reports"]
    out.append(path("reports/", include(([*reports_urls.urlpatterns, *stand_ins], "reports"))))
    return out


urlpatterns = _urlpatterns()


@pytest.fixture(autouse=True)
def _report_urls(settings):
    settings.ROOT_URLCONF = __name__


# -- building blocks ---------------------------------------------------------------------------


class Build:
    """Visits and tasks through the ORM (planner and intake are tested apart)."""

    def __init__(self, org, stage):
        self.org, self.stage, self.n = org, stage, 0

    def task(self, dept="cardio", **extra):
        self.n += 1
        visit = ui_visit(
            self.org[dept],
            patient_no=f"D{self.n:04d}",
            name=f"病人甲{self.n}号",
            visit_no=f"ZY{self.n:04d}",
        )
        return make_task(self.stage, visit, **extra)

    def done(self, dept="cardio", *, on, start, end, overall="", by=None, **extra):
        """A follow-up completed at ``on``, its record's 总评价 ``overall``."""
        from careloop.followup.models import FollowUpRecord

        task = self.task(
            dept, status=TaskStatus.COMPLETED, completed_at=on, start=start, end=end, **extra
        )
        if overall:
            FollowUpRecord.objects.create(task=task, overall=overall, by=by, at=on)
        return task


@pytest.fixture
def build(org, personas):
    stage = make_stage(make_policy(is_active=True))
    return Build(org, stage)


def tiles(html: str) -> dict[str, tuple[str | None, str]]:
    """{data-tile: (link or None, shown value)} of the dashboard."""
    out = {}
    for key, href, value in re.findall(r'data-tile="([^"]+)" href="([^"]*)">([^<]*)<', html):
        out[key] = (unescape(href), value.strip())
    for key, value in re.findall(r'<span data-tile="([^"]+)">([^<]*)<', html):
        out[key] = (None, value.strip())
    return out


def dashboard(html: str) -> str:
    """Only the dashboard's part of the page."""
    start = html.index('<div id="dashboard">')
    return html[start : html.index("<!-- /dashboard -->", start)]


def link(name: str, **params) -> str:
    from urllib.parse import urlencode

    return f"{reverse(name)}?{urlencode(params)}" if params else reverse(name)


# -- agents: their day (F6/F7 queue counters) and their month (R5) ------------------------------


@pytest.fixture
def agent_day(build, personas, make_user, org):
    agent = personas["agent"]
    other = make_user("agent2", Role.AGENT, departments=[org["service"]])
    return {
        # In my queue now: two of mine, one from the unassigned pool (agents work the pool).
        "mine1": build.task(assignee=agent, start=d(2026, 4, 10), end=d(2026, 4, 20)),
        "mine2": build.task(assignee=agent, start=d(2026, 4, 14), end=d(2026, 4, 16)),
        "pool": build.task(start=d(2026, 4, 12), end=d(2026, 4, 18)),
        # Window closed on the 10th, still not called.
        "overdue": build.task(assignee=agent, start=d(2026, 4, 1), end=d(2026, 4, 10)),
        # Done today: one inside its window, one late (its window closed on the 10th).
        "done_a": build.done(
            on=at(15, 9), start=d(2026, 4, 12), end=d(2026, 4, 18), assignee=agent, by=agent
        ),
        "done_b": build.done(
            on=at(15, 9), start=d(2026, 4, 1), end=d(2026, 4, 10), assignee=agent, by=agent
        ),
        # Earlier this month: one completed on time, one unreachable.
        "done_early": build.done(
            on=at(2), start=d(2026, 3, 28), end=d(2026, 4, 3), assignee=agent, by=agent
        ),
        "unreachable": build.task(
            assignee=agent,
            status=TaskStatus.UNREACHABLE,
            completed_at=at(3),
            start=d(2026, 3, 30),
            end=d(2026, 4, 5),
        ),
        # Not mine or not now: another agent's, a pool task whose window opens later, an
        # excluded one, a cancelled one, one I completed last month.
        "others": build.task(assignee=other, start=d(2026, 4, 10), end=d(2026, 4, 20)),
        "future": build.task(start=d(2026, 4, 20), end=d(2026, 4, 26)),
        "excluded": build.task(
            status=TaskStatus.EXCLUDED, exclusion="E1", start=d(2026, 4, 10), end=d(2026, 4, 20)
        ),
        "cancelled": build.task(
            assignee=agent, status=TaskStatus.CANCELLED, start=d(2026, 4, 10), end=d(2026, 4, 20)
        ),
        "march": build.done(
            on=at(20, month=3), start=d(2026, 3, 17), end=d(2026, 3, 23), assignee=agent, by=agent
        ),
    }


@time_machine.travel(NOW, tick=False)
def test_agent_sees_their_day_and_month_each_number_a_link_R5(personas, agent_day):
    agent = personas["agent"]
    html = client_for(agent).get("/").content.decode()
    got = tiles(dashboard(html))
    queue = reverse("workspace:queue")

    def tasks(**f):
        return link("followup:task_list", assignee=agent.pk, **f)

    assert got == {
        "due": (queue, "3"),
        "overdue": (queue, "1"),
        "in_progress": (tasks(status="in_progress"), "0"),
        "done_today": (tasks(completed_from=TODAY, completed_to=TODAY), "2"),
        "unreachable_today": (
            tasks(status="unreachable", completed_from=TODAY, completed_to=TODAY),
            "0",
        ),
        "pool": (queue, "1"),
        # April: done_a, done_b, done_early completed, one unreachable → 3 / 4; on time: 2 / 3.
        "month_completed": (tasks(status="completed", **APRIL), "3"),
        "month_contact": (tasks(status="unreachable", **APRIL), "75.00%"),
        "month_on_time": (tasks(status="completed", **APRIL), "66.67%"),
    }
    assert 'data-panel="personal"' in html
    assert 'data-panel="department"' not in html and 'data-panel="hospital"' not in html


@time_machine.travel(NOW, tick=False)
def test_agent_counts_equal_the_queue_page_F6(personas, agent_day):
    client = client_for(personas["agent"])
    got = tiles(dashboard(client.get("/").content.decode()))
    queue = client.get("/workspace/").content.decode()
    shown = dict(re.findall(r'data-count="([a-z_]+)">(\d+)<', queue))
    assert shown["due"] == got["due"][1] == "3"
    assert shown["overdue"] == got["overdue"][1] == "1"
    assert shown["done_today"] == got["done_today"][1] == "2"


@time_machine.travel(NOW, tick=False)
def test_agent_links_open_pages_that_answer(personas, agent_day):
    client = client_for(personas["agent"])
    for href, _value in tiles(dashboard(client.get("/").content.decode())).values():
        assert client.get(href).status_code == 200, href
    # The day's numbers open lists of exactly that many tasks (the list pages' "共 N 条").
    got = tiles(dashboard(client.get("/").content.decode()))
    for key in ("done_today", "unreachable_today", "in_progress", "month_completed"):
        href, value = got[key]
        assert f"共 {value} 条" in client.get(href).content.decode(), key


# -- nurses and doctors: their own tasks, and escalations addressed to them (F11) -------------


@time_machine.travel(NOW, tick=False)
def test_doctor_sees_own_tasks_and_open_escalations_F11(build, org, make_user, personas):
    from careloop.cases.choices import EscalationStatus
    from careloop.cases.models import Escalation

    doctor = make_user("doctor.xnk", Role.DOCTOR, departments=[org["cardio"]])
    build.task(
        assignee=doctor, status=TaskStatus.IN_PROGRESS, start=d(2026, 4, 13), end=d(2026, 4, 19)
    )
    build.task(
        assignee=doctor, status=TaskStatus.UNREACHABLE, completed_at=at(15, 8),
        start=d(2026, 4, 10), end=d(2026, 4, 16),
    )  # fmt: skip
    build.task(start=d(2026, 4, 10), end=d(2026, 4, 20))  # the pool: not a doctor's work
    visit = build.task().visit

    def escalation(status, due):
        return Escalation.objects.create(
            visit=visit, patient=visit.patient, department=org["cardio"],
            raised_by=personas["agent"], doctor=doctor, reason="worsening",
            description="胸闷", due_at=due, status=status,
        )  # fmt: skip

    escalation(EscalationStatus.OPEN, at(14))  # overdue
    escalation(EscalationStatus.OPEN, at(16))
    escalation(EscalationStatus.CLOSED, at(10))

    html = dashboard(client_for(doctor).get("/").content.decode())
    got = tiles(html)
    assert got["due"][1] == "1"  # the claimed one is in the queue
    assert got["in_progress"] == (
        link("followup:task_list", assignee=doctor.pk, status="in_progress"),
        "1",
    )
    assert got["done_today"][1] == "1" and got["unreachable_today"][1] == "1"
    assert "pool" not in got
    assert got["escalations"] == (link("cases:escalation_list", tab="mine"), "2")
    assert "其中已逾期 1" in html


@time_machine.travel(NOW, tick=False)
def test_nurse_without_escalations_sees_no_escalation_tile(personas, build):
    html = dashboard(client_for(personas["cardio_nurse"]).get("/").content.decode())
    got = tiles(html)
    assert "escalations" not in got and got["due"][1] == "0"


# -- department heads: their department, this month and last month ---------------------------


@pytest.fixture
def month_data(build, personas, org):
    """Cardiology and orthopaedics in March and April 2026 (see the expected numbers below)."""
    agent = personas["agent"]
    # Cardiology, April (to the 15th).
    build.done(on=at(5), start=d(2026, 4, 1), end=d(2026, 4, 7), overall="very_good", by=agent)
    build.done(on=at(10), start=d(2026, 4, 1), end=d(2026, 4, 7), overall="poor", by=agent)
    build.task(status=TaskStatus.UNREACHABLE, completed_at=at(12), start=d(2026, 4, 5),
               end=d(2026, 4, 11))  # fmt: skip
    build.task(start=d(2026, 4, 1), end=d(2026, 4, 10))  # overdue
    build.task(start=d(2026, 4, 10), end=d(2026, 4, 20))  # window still open: not yet due
    build.task(status=TaskStatus.EXCLUDED, exclusion="E3", start=d(2026, 4, 1), end=d(2026, 4, 7))
    # Cardiology, March.
    build.done(on=at(20, month=3), start=d(2026, 3, 17), end=d(2026, 3, 23), overall="good",
               by=agent)  # fmt: skip
    # Orthopaedics, April: three on time, rated fair, fair, good.
    for rating in ("fair", "fair", "good"):
        build.done("ortho", on=at(3), start=d(2026, 4, 1), end=d(2026, 4, 7), overall=rating,
                   by=agent)  # fmt: skip
    # Orthopaedics, March: two, rated poor and good.
    for rating in ("poor", "good"):
        build.done("ortho", on=at(9, month=3), start=d(2026, 3, 5), end=d(2026, 3, 11),
                   overall=rating, by=agent)  # fmt: skip


@pytest.fixture
def loop_items(build, org, personas):
    """C1/C2: disposal forms and complaints of both wards."""
    from careloop.cases.choices import CaseKind, CaseSource, CaseStatus, DisposalStatus
    from careloop.cases.models import Case, DisposalForm

    def form(dept, status, due):
        task = build.done(dept, on=at(1, month=2), start=d(2026, 2, 1), end=d(2026, 2, 7))
        return DisposalForm.objects.create(
            task=task, visit=task.visit, patient=task.patient, department=org[dept],
            followed_up_at=at(1, month=2), problem="态度差", status=status, due_at=due,
        )  # fmt: skip

    form("cardio", DisposalStatus.DEPARTMENT, at(14))  # overdue
    form("cardio", DisposalStatus.MEDICAL_AFFAIRS, at(20))
    form("cardio", DisposalStatus.CLOSED, None)
    form("ortho", DisposalStatus.DEPARTMENT, at(20))

    def complaint(depts, status, due):
        case = Case.objects.create(
            kind=CaseKind.COMPLAINT, source=CaseSource.HOTLINE, summary="等候太久",
            description="等候太久", status=status, due_at=due,
        )  # fmt: skip
        case.departments.set([org[x] for x in depts])
        return case

    complaint(["cardio"], CaseStatus.INVESTIGATING, at(14))  # overdue
    complaint(["cardio", "ortho"], CaseStatus.REGISTERED, at(20))
    complaint(["cardio"], CaseStatus.CLOSED, at(1))
    complaint(["ortho"], CaseStatus.HANDLING, at(1))  # overdue, not cardiology's


@time_machine.travel(NOW, tick=False)
def test_department_head_sees_their_department_only_R5(personas, org, month_data, loop_items):
    head, cardio = personas["dept_head"], org["cardio"].pk
    html = dashboard(client_for(head).get("/").content.decode())
    got = tiles(html)

    def drill(month, metric):
        return link("reports:drill", month=month, department=cardio, metric=metric)

    def monthly(month):
        return link("reports:monthly", month=month, department=cardio)

    assert "心血管内科病区" in html
    assert "骨科病区" not in html
    # April: 2 completed + 1 unreachable + 1 overdue = 4 due; satisfaction 1 of 2 rated.
    assert got["due-2026-04"] == (drill("2026-04", "due"), "4")
    assert got["completed-2026-04"] == (drill("2026-04", "completed"), "2")
    assert got["followup_rate-2026-04"] == (drill("2026-04", "due"), "50.00%")
    assert got["contact_success_rate-2026-04"] == (drill("2026-04", "unreachable"), "66.67%")
    assert got["on_time_rate-2026-04"] == (drill("2026-04", "completed"), "50.00%")
    assert got["overdue-2026-04"] == (drill("2026-04", "overdue"), "1")
    assert got["satisfaction-2026-04"] == (monthly("2026-04"), "50.00%")
    # March: the one follow-up (and February's forms' tasks count in February).
    assert got["due-2026-03"] == (drill("2026-03", "due"), "1")
    assert got["completed-2026-03"][1] == "1"
    assert got["followup_rate-2026-03"][1] == "100.00%"
    assert got["overdue-2026-03"][1] == "0"
    assert got["satisfaction-2026-03"] == (monthly("2026-03"), "100.00%")
    # C1/C2: only cardiology's.
    assert got["disposal"] == (
        link("cases:disposal_list", tab="department", department=cardio),
        "1",
    )
    assert got["complaints"] == (
        link("cases:case_list", kind="complaint", department=cardio, open="true"),
        "2",
    )
    assert got["complaints_overdue"] == (
        link("cases:case_list", kind="complaint", department=cardio, deadline="overdue"),
        "1",
    )
    assert 'data-panel="hospital"' not in html and 'data-panel="personal"' not in html


@time_machine.travel(NOW, tick=False)
def test_department_head_case_links_list_the_same_numbers(personas, org, loop_items):
    client = client_for(personas["dept_head"])
    got = tiles(dashboard(client.get("/").content.decode()))
    page = client.get(got["complaints_overdue"][0]).content.decode()
    assert page.count("等候太久") == 1
    disposal = client.get(got["disposal"][0])
    assert disposal.status_code == 200


@time_machine.travel(NOW, tick=False)
def test_last_month_is_counted_live_like_the_list_it_opens_R5(personas, org, month_data):
    """A call recorded late for last month moves the dashboard number and its drill list
    together (the snapshot kept for the ranking does not freeze the dashboard)."""
    from careloop.followup.models import FollowUpTask
    from careloop.reports.periods import month
    from careloop.reports.services import close_month

    close_month(month(2026, 3), today=d(2026, 4, 1))
    FollowUpTask.objects.filter(department=org["cardio"], completed_at__month=3).update(
        status=TaskStatus.UNREACHABLE
    )
    client = client_for(personas["dept_head"])
    got = tiles(dashboard(client.get("/").content.decode()))
    assert got["completed-2026-03"][1] == "0"
    href = got["completed-2026-03"][0]
    assert 'id="drill-count">0<' in client.get(href).content.decode()


# -- the hospital: medical affairs (with lists) and leadership (numbers only) ----------------


@time_machine.travel(NOW, tick=False)
def test_leadership_sees_hospital_figures_and_no_patient_R5(personas, org, build, month_data,
                                                            loop_items):  # fmt: skip
    html = dashboard(client_for(personas["leader"]).get("/").content.decode())
    got = tiles(html)

    def monthly(month, **extra):
        return link("reports:monthly", month=month, **extra)

    # April: cardio 2 + ortho 3 completed, 1 unreachable, 1 overdue → 7 due; on time 4 of 5;
    # 总评价 very_good, poor, fair, fair, good → 2 of 5 satisfied.
    assert got["due-2026-04"] == (monthly("2026-04"), "7")
    assert got["completed-2026-04"] == (monthly("2026-04"), "5")
    assert got["followup_rate-2026-04"][1] == "71.43%"
    assert got["contact_success_rate-2026-04"][1] == "83.33%"
    assert got["on_time_rate-2026-04"][1] == "80.00%"
    assert got["overdue-2026-04"][1] == "1"
    assert got["satisfaction-2026-04"][1] == "40.00%"
    # March: 3 done of 3 due; good, poor, good.
    assert got["due-2026-03"][1] == "3"
    assert got["satisfaction-2026-03"] == (monthly("2026-03"), "66.67%")
    # R4: orthopaedics (50.00%) below cardiology (100.00%) last month.
    assert got["lowest-1"] == (monthly("2026-03", department=org["ortho"].pk), "50.00%")
    assert got["lowest-2"] == (monthly("2026-03", department=org["cardio"].pk), "100.00%")
    assert html.index("骨科病区") < html.index("心血管内科病区")
    assert link("reports:ranking", month="2026-03") in unescape(html)
    # Complaints of the hospital: 3 open, 2 overdue; 1 form waits for medical affairs.
    summary = reverse("reports:summary_list")
    assert got["complaints"] == (summary, "3")
    assert got["complaints_overdue"] == (summary, "2")
    assert got["disposal"] == (summary, "1")
    assert got["escalations_overdue"] == (summary, "0")
    # Numbers only: no patient, no task or case list behind any number.
    assert "病人甲" not in html
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and [h for h in hrefs if not h.startswith("/reports/")] == []


@time_machine.travel(NOW, tick=False)
def test_medical_affairs_numbers_open_the_lists(personas, org, month_data, loop_items):
    html = dashboard(client_for(personas["medical_affairs"]).get("/").content.decode())
    got = tiles(html)
    assert got["due-2026-04"] == (link("reports:drill", month="2026-04", metric="due"), "7")
    assert got["disposal"] == (link("cases:disposal_list", tab="medical_affairs"), "1")
    assert got["complaints_overdue"] == (
        link("cases:case_list", kind="complaint", deadline="overdue"),
        "2",
    )
    assert got["escalations_overdue"] == (link("cases:escalation_list", tab="open"), "0")


# -- everyone else, and a missing dashboard --------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_user_without_roles_gets_a_home_page(make_user, org):
    nobody = make_user("nobody")
    response = client_for(nobody).get("/")
    assert response.status_code == 200
    assert "data-panel" not in response.content.decode()


@pytest.mark.parametrize("persona", ["auditor", "sysadmin", "secadmin"])
def test_admin_duties_see_no_numbers(personas, persona):
    response = client_for(personas[persona]).get("/")
    assert response.status_code == 200 and "data-panel" not in response.content.decode()


def test_home_renders_when_the_dashboard_cannot_be_loaded(personas, settings):
    settings.CARELOOP_DASHBOARD = "careloop.reports.no_such_module.build"
    response = client_for(personas["agent"]).get("/")
    assert response.status_code == 200
    assert "data-panel" not in response.content.decode()


# -- speed: a fixed number of queries whatever the data ---------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona", ["agent", "dept_head", "medical_affairs", "leader"])
def test_home_page_query_count_is_bounded(personas, month_data, loop_items, agent_day, persona,
                                          django_assert_max_num_queries):  # fmt: skip
    client = client_for(personas[persona])
    # Both months are counted live (three queries each).
    with django_assert_max_num_queries(25):
        assert client.get("/").status_code == 200
