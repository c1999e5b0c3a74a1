"""The home page's dashboard: one panel per kind of work a user's roles do (issue 7, item 6).

- agents, nurses and doctors: their day (the workspace queue's own counters, F6/F7) and their
  month so far (R5 over the tasks assigned to them);
- department heads and head nurses: their department this month and last month (R5, R1
  satisfaction), disposal forms waiting for their signature (C1), open complaints (C2/C3);
- medical affairs, the nursing department, the service supervisor and leadership: the
  hospital (R5, the five departments with the lowest satisfaction last month (R4), complaints,
  disposal forms waiting for medical affairs, overdue escalations (F11)).

Every number is a link to the list behind it. Leadership reads numbers only (O3: no patient
or task permission), so its links go to report pages, never to lists of patients or tasks.

The home page is the most opened page: each panel costs a fixed handful of aggregate queries,
whatever the number of tasks (see ``test_dashboard`` for the bound). ``core.views.home`` loads
``build`` by name (setting ``CARELOOP_DASHBOARD``) because nothing outside reports imports it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from careloop.accounts.roles import Role
from careloop.reports import periods, scope
from careloop.reports.definitions import Figures, percent, total
from careloop.reports.queries import (
    ON_TIME,
    _with_completed_on,
    department_figures,
)

TEMPLATE = "reports/partials/dashboard.html"

PERSONAL_ROLES = (Role.AGENT, Role.NURSE, Role.DOCTOR)
DEPARTMENT_ROLES = (Role.DEPT_HEAD, Role.HEAD_NURSE)
HOSPITAL_ROLES = (Role.SUPERVISOR, Role.MEDICAL_AFFAIRS, Role.NURSING_DEPT, Role.LEADERSHIP)

TASK_PERM = "followup.view_followuptask"
LOWEST = 5  # departments shown at the bottom of last month's satisfaction


@dataclass
class Tile:
    """One number and where it leads. ``url`` None: the page behind it is not available."""

    key: str
    label: str
    value: object
    url: str | None = None
    tone: str = ""  # bootstrap colour: danger, success, warning
    note: str = ""


@dataclass
class Row:
    key: str
    label: str
    cells: list[Tile]


@dataclass
class Panel:
    kind: str  # personal | department | hospital
    title: str
    tiles: list[Tile] = field(default_factory=list)
    subtitle: str = ""
    # A comparison table: column headings and rows of tiles (one per column).
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    more: list[Tile] = field(default_factory=list)  # a second group of tiles
    more_title: str = ""
    lowest: list[dict] = field(default_factory=list)  # R4 bottom of last month (hospital)
    lowest_url: str | None = None
    lowest_month: str = ""


def url(name: str, **params) -> str | None:
    """The page's address with its filters; None while the page does not exist (the report
    pages are added one by one), so the number is shown without a link instead of a 500."""
    try:
        base = reverse(name)
    except NoReverseMatch:
        return None
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{base}?{query}" if query else base


def build(user, *, now: dt.datetime | None = None) -> dict:
    """The dashboard context of ``user``: {"template": …, "panels": [Panel, …]} (no panels for
    a user whose roles have no numbers to show)."""
    moment = timezone.localtime(now or timezone.now())
    panels: list[Panel] = []
    if user is None or not user.is_authenticated or not user.is_active:
        return {"template": TEMPLATE, "panels": panels}
    if user.has_role(*PERSONAL_ROLES) and user.has_perm(TASK_PERM):
        panels.append(personal_panel(user, moment))
    if user.has_role(*DEPARTMENT_ROLES) and user.has_perm(scope.VIEW) and user.department_ids:
        panels.extend(department_panels(user, moment))
    if user.has_role(*HOSPITAL_ROLES) and scope.department_ids(user) is None:
        panels.append(hospital_panel(user, moment))
    return {"template": TEMPLATE, "panels": panels}


# -- my day and my month (agents, nurses, doctors) --------------------------------------------


def personal_panel(user, moment: dt.datetime) -> Panel:
    from careloop.followup.choices import TaskStatus
    from careloop.followup.models import FollowUpTask
    from careloop.workspace import queue as q

    today = moment.date()
    month = periods.this_month(today)
    day_start, day_end = q.day_bounds(today)
    # The queue's own counters, so the numbers equal what the queue page shows (F6/F7).
    counts = q.queue_counts(user, moment)
    mine = _with_completed_on(FollowUpTask.objects.visible_to(user).filter(assignee=user))
    finished_month = Q(
        status__in=(TaskStatus.COMPLETED, TaskStatus.UNREACHABLE),
        completed_at__gte=month.start_dt(),
        completed_at__lt=month.end_dt(),
    )
    done_month = finished_month & Q(status=TaskStatus.COMPLETED)
    row = mine.order_by().aggregate(
        in_progress=Count("pk", filter=Q(status=TaskStatus.IN_PROGRESS)),
        unreachable_today=Count(
            "pk",
            filter=Q(
                status=TaskStatus.UNREACHABLE,
                completed_at__gte=day_start,
                completed_at__lt=day_end,
            ),
        ),
        # My month is my work: the calls I finished this month by the day I finished them (so
        # the task list filtered by completion date shows exactly these), with the R5 rates
        # (definitions.py) over them. The department's month (R1) attributes by window instead.
        completed=Count("pk", filter=done_month),
        unreachable=Count("pk", filter=finished_month & Q(status=TaskStatus.UNREACHABLE)),
        on_time=Count("pk", filter=done_month & ON_TIME),
    )
    f = Figures(
        completed=row["completed"],
        unreachable=row["unreachable"],
        on_time=row["on_time"],
    )

    queue = url("workspace:queue")

    def tasks(**filters):
        return url("followup:task_list", assignee=user.pk, **filters)

    tiles = [
        Tile("due", _("今日待回访"), counts.due, queue),
        Tile("overdue", _("逾期"), counts.overdue, queue, tone="danger" if counts.overdue else ""),
        Tile("in_progress", _("回访中"), row["in_progress"], tasks(status="in_progress")),
        Tile("done_today", _("今日已完成"), counts.done_today,
             tasks(completed_from=today.isoformat(), completed_to=today.isoformat()),
             tone="success", note=_("含今日失访，与今日回访页一致")),
        Tile("unreachable_today", _("今日失访"), row["unreachable_today"],
             tasks(status="unreachable", completed_from=today.isoformat(),
                   completed_to=today.isoformat())),
    ]  # fmt: skip
    if q.takes_pool(user):
        tiles.append(
            Tile(
                "pool",
                _("公共池待领取"),
                q.pool_size(user, today),
                queue,
                note=_("含在今日待回访中"),
            )
        )
    span = {"completed_from": month.start.isoformat(), "completed_to": month.last.isoformat()}
    more = [
        Tile("month_completed", _("本月已完成"), f.completed, tasks(status="completed", **span)),
        Tile("month_contact", _("回访成功率"), percent(f.contact_success_rate),
             tasks(status="unreachable", **span), note=_("已完成 ÷（已完成 + 失访）")),
        Tile("month_on_time", _("及时率"), percent(f.on_time_rate),
             tasks(status="completed", **span), note=_("窗口内完成 ÷ 已完成")),
    ]  # fmt: skip
    panel = Panel(
        "personal",
        _("我的今日回访"),
        tiles=tiles,
        more=more,
        more_title=_("本月至今（%(month)s）") % {"month": month.label},
    )
    if user.has_perm("cases.view_escalation"):
        panel.tiles.extend(_my_escalations(user, moment))
    return panel


def _my_escalations(user, moment) -> list[Tile]:
    """F11: open escalations addressed to me, shown only when there are some."""
    from careloop.cases.choices import EscalationStatus
    from careloop.cases.models import Escalation

    row = (
        Escalation.objects.visible_to(user)
        .filter(doctor=user, status=EscalationStatus.OPEN)
        .aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lte=moment)))
    )
    if not row["open"]:
        return []
    note = _("其中已逾期 %(n)s") % {"n": row["overdue"]} if row["overdue"] else ""
    return [
        Tile("escalations", _("待我确认的临床转介"), row["open"],
             url("cases:escalation_list", tab="mine"), tone="warning", note=note),
    ]  # fmt: skip


# -- a department (department heads, head nurses) --------------------------------------------


def _month_figures(
    month: periods.Period, departments: list[int] | None, today: dt.date
) -> tuple[dict[int, Figures], dict[int, object]]:
    """Figures per department for a month, counted live like the R1 page and the drill lists
    the numbers open (a call recorded late moves both together); the kept snapshots are for the
    ranking and the summaries, which say when they were made. Also the satisfaction per
    department (Q3 over 总评价)."""
    figures = department_figures(month, departments=departments, today=today)
    return figures, {d: f.overall_satisfaction() for d, f in figures.items()}


R5_ROWS = (
    ("due", gettext_lazy("应访")),
    ("completed", gettext_lazy("已回访")),
    ("followup_rate", gettext_lazy("回访率")),
    ("contact_success_rate", gettext_lazy("回访成功率")),
    ("on_time_rate", gettext_lazy("及时率")),
    ("overdue", gettext_lazy("逾期未访")),
    ("satisfaction", gettext_lazy("满意率")),
)
# Which list a rate opens: the tasks of its denominator's interesting part.
RATE_METRIC = {"followup_rate": "due", "contact_success_rate": "unreachable",
               "on_time_rate": "completed"}  # fmt: skip


def _r5_rows(months, figures, *, department=None, drill: bool) -> list[Row]:
    """The comparison table: one row per R5 figure, one cell per month. ``drill`` False
    (leadership): numbers open the R1 report page instead of the task lists."""
    rows = []
    for key, label in R5_ROWS:
        cells = []
        for month, f in zip(months, figures, strict=True):
            if key == "satisfaction":
                value = percent(f.overall_satisfaction())
            elif key.endswith("_rate"):
                value = percent(getattr(f, key))
            else:
                value = getattr(f, key)
            metric = RATE_METRIC.get(key, key)
            if drill and key != "satisfaction":
                link = url("reports:drill", month=month.key, department=department, metric=metric)
            else:
                link = url("reports:monthly", month=month.key, department=department)
            tone = "danger" if key == "overdue" and value else ""
            cells.append(Tile(f"{key}-{month.key}", str(label), value, link, tone=tone))
        rows.append(Row(key, str(label), cells))
    return rows


def department_panels(user, moment: dt.datetime) -> list[Panel]:
    from careloop.cases.choices import CaseKind, CaseStatus, DeadlineState, DisposalStatus
    from careloop.cases.filtersets import clock_filter
    from careloop.cases.models import Case, DisposalForm
    from careloop.org.models import Department

    today = moment.date()
    ids = sorted(user.department_ids)
    this, last = periods.this_month(today), periods.last_month(today)
    now_figs, _s = _month_figures(this, ids, today)
    last_figs, _s = _month_figures(last, ids, today)

    # C1: forms waiting for the department's signature; C2/C3: its open complaints.
    waiting = {
        r["department_id"]: r
        for r in DisposalForm.objects.visible_to(user)
        .filter(status=DisposalStatus.DEPARTMENT, department_id__in=ids)
        .order_by()
        .values("department_id")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(due_at__lte=moment)))
    }
    complaints = {
        r["departments"]: r
        for r in Case.objects.visible_to(user)
        .filter(kind=CaseKind.COMPLAINT, departments__in=ids)
        .exclude(status=CaseStatus.CLOSED)
        .order_by()
        .values("departments")
        .annotate(
            n=Count("pk", distinct=True),
            overdue=Count("pk", filter=clock_filter(DeadlineState.OVERDUE, moment), distinct=True),
        )
    }
    drill = user.has_perm(TASK_PERM)
    panels = []
    for dept in Department.objects.filter(pk__in=ids).order_by("code").only("pk", "name"):
        months = (this, last)
        figs = (now_figs.get(dept.pk, Figures()), last_figs.get(dept.pk, Figures()))
        forms = waiting.get(dept.pk, {"n": 0, "overdue": 0})
        cases = complaints.get(dept.pk, {"n": 0, "overdue": 0})
        more = [
            Tile("disposal", _("待本科室签字的处置反馈表"), forms["n"],
                 url("cases:disposal_list", tab="department", department=dept.pk),
                 tone="warning" if forms["n"] else "",
                 note=_("其中已逾期 %(n)s") % {"n": forms["overdue"]} if forms["overdue"] else ""),
            Tile("complaints", _("未结投诉"), cases["n"],
                 url("cases:case_list", kind=CaseKind.COMPLAINT, department=dept.pk, open="true")),
            Tile("complaints_overdue", _("逾期未答复投诉"), cases["overdue"],
                 url("cases:case_list", kind=CaseKind.COMPLAINT, department=dept.pk,
                     deadline=DeadlineState.OVERDUE),
                 tone="danger" if cases["overdue"] else ""),
        ]  # fmt: skip
        panels.append(
            Panel(
                "department",
                dept.name,
                subtitle=_("本科室回访统计"),
                columns=[
                    _("本月至今（%(m)s）") % {"m": this.label},
                    _("上月（%(m)s）") % {"m": last.label},
                ],
                rows=_r5_rows(months, figs, department=dept.pk, drill=drill),
                more=more,
                more_title=_("待办与投诉"),
            )
        )
    return panels


# -- the hospital (medical affairs, nursing department, supervisor, leadership) --------------


def hospital_panel(user, moment: dt.datetime) -> Panel:
    from careloop.cases.choices import (
        CaseKind,
        CaseStatus,
        DeadlineState,
        DisposalStatus,
        EscalationStatus,
    )
    from careloop.cases.filtersets import clock_filter
    from careloop.cases.models import Case, DisposalForm, Escalation
    from careloop.org.models import Department

    today = moment.date()
    this, last = periods.this_month(today), periods.last_month(today)
    now_figs, _s = _month_figures(this, None, today)
    last_figs, last_sat = _month_figures(last, None, today)
    drill = user.has_perm(TASK_PERM)

    # R4: the bottom of last month by its ranking figure (departments without ratings are not
    # ranked); ties by department code, like the ranking page.
    ranked = [(sat, d) for d, sat in last_sat.items() if sat is not None]
    depts = {
        pk: (code, name)
        for pk, code, name in Department.objects.filter(
            pk__in=[d for _sat, d in ranked]
        ).values_list("pk", "code", "name")
    }
    ranked.sort(key=lambda item: (item[0], depts.get(item[1], ("", ""))[0]))
    lowest = [
        {
            "name": depts.get(d, ("", ""))[1],
            "satisfaction": percent(sat),
            "rated": sum(last_figs[d].overall.values()) if d in last_figs else 0,
            "url": url("reports:monthly", month=last.key, department=d),
        }
        for sat, d in ranked[:LOWEST]
    ]

    # Counts only, over the whole hospital (this panel is for whole-hospital roles).
    complaints = (
        Case.objects.filter(kind=CaseKind.COMPLAINT)
        .exclude(status=CaseStatus.CLOSED)
        .aggregate(
            n=Count("pk"), overdue=Count("pk", filter=clock_filter(DeadlineState.OVERDUE, moment))
        )
    )
    forms = DisposalForm.objects.filter(status=DisposalStatus.MEDICAL_AFFAIRS).aggregate(
        n=Count("pk"), overdue=Count("pk", filter=Q(due_at__lte=moment))
    )
    escalations = Escalation.objects.filter(
        status=EscalationStatus.OPEN, due_at__lte=moment
    ).count()

    summary = url("reports:summary_list")

    def listing(perm, name, **params):
        # Leadership holds no case permission: its numbers open the report pages (R3).
        return url(name, **params) if user.has_perm(perm) else summary

    more = [
        Tile("complaints", _("未结投诉"), complaints["n"],
             listing("cases.view_case", "cases:case_list", kind=CaseKind.COMPLAINT, open="true")),
        Tile("complaints_overdue", _("逾期未答复投诉"), complaints["overdue"],
             listing("cases.view_case", "cases:case_list", kind=CaseKind.COMPLAINT,
                     deadline=DeadlineState.OVERDUE),
             tone="danger" if complaints["overdue"] else ""),
        Tile("disposal", _("待医务科审核的处置反馈表"), forms["n"],
             listing("cases.view_disposalform", "cases:disposal_list", tab="medical_affairs"),
             tone="warning" if forms["n"] else "",
             note=_("其中已逾期 %(n)s") % {"n": forms["overdue"]} if forms["overdue"] else ""),
        Tile("escalations_overdue", _("逾期未确认的临床转介"), escalations,
             listing("cases.view_escalation", "cases:escalation_list", tab="open"),
             tone="danger" if escalations else ""),
    ]  # fmt: skip
    months = (this, last)
    figs = (total(now_figs.values()), total(last_figs.values()))
    return Panel(
        "hospital",
        _("全院回访统计"),
        columns=[
            _("本月至今（%(m)s）") % {"m": this.label},
            _("上月（%(m)s）") % {"m": last.label},
        ],
        rows=_r5_rows(months, figs, drill=drill),
        more=more,
        more_title=_("投诉、处置与转介"),
        lowest=lowest,
        lowest_url=url("reports:ranking", month=last.key),
        lowest_month=last.label,
    )
