"""F6/F7/F12: the agent's queue of today, its counts, and the supervisors' workload figures.

The queue must stay fast on millions of tasks (20 agents, p95 ≤ 100 ms): it is an OR of two
index ranges — my tasks on (assignee, status, window_start) and the unassigned pool on
(status, window_start) — ordered in SQL, one page at a time. "Callable now" (F6) depends on the
policy's call hours, so the few policies whose call hours are open at this moment are computed
in Python (a tiny table) and the ordering uses ``policy_id IN (…)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.functional import cached_property

from careloop.accounts.roles import Role
from careloop.followup.calls import in_call_hours
from careloop.followup.choices import AssigneeRole, Channel, TaskStatus
from careloop.followup.models import FollowUpTask, Policy

QUEUE_STATUSES = (TaskStatus.DUE, TaskStatus.IN_PROGRESS)
DONE_STATUSES = (TaskStatus.COMPLETED, TaskStatus.UNREACHABLE)
PAGE_SIZE = 50

# Only what a queue row shows: the encrypted patient fields are never loaded (nor decrypted).
ROW_FIELDS = (
    "id", "status", "window_start", "window_end", "next_attempt_at", "channel", "sequence",
    "assignee_id", "policy_id", "claimed_at",
    "patient__id", "patient__name", "patient__patient_no", "patient__sex", "patient__birth_date",
    "department__id", "department__name", "stage__id", "stage__name",
    "visit__id", "visit__visit_type", "visit__discharged_at", "visit__visit_at",
)  # fmt: skip


def local_now(now: dt.datetime | None = None) -> dt.datetime:
    return timezone.localtime(now or timezone.now())


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def open_policy_ids(now: dt.datetime | None = None) -> frozenset[int]:
    """F6: the policies whose call hours are open now (none on a non-working day)."""
    from careloop.calendars.services import get_calendar

    moment = local_now(now)
    if not get_calendar().is_workday(moment.date()):
        return frozenset()
    ids = set()
    for pk, hours in Policy.objects.values_list("pk", "call_hours"):
        try:
            if in_call_hours(hours, moment, True):
                ids.add(pk)
        except ValueError:  # a malformed policy is the policy page's problem, not the queue's
            continue
    return frozenset(ids)


def takes_pool(user) -> bool:
    """F12: only agents work the unassigned pool; nurses and doctors see their own tasks."""
    return user.has_role(Role.AGENT)


def mine_q(user) -> Q:
    """My open tasks, and the unassigned pool for agents. A pool task someone claimed has that
    person as assignee, so "in progress by me" needs no extra condition."""
    q = Q(assignee=user, status__in=QUEUE_STATUSES)
    if takes_pool(user):
        q |= Q(assignee__isnull=True, assignee_role=AssigneeRole.AGENT_POOL, status=TaskStatus.DUE)
    return q


def queue_base(user, today: dt.date | None = None):
    """F6/F7: tasks I can work now: window open (window_start ≤ today), not excluded (the
    status says so), in my scope (O3)."""
    today = today or local_now().date()
    return FollowUpTask.objects.visible_to(user).filter(mine_q(user), window_start__lte=today)


@dataclass
class QueueFilters:
    department: int | None = None
    stage: int | None = None
    channel: str = ""

    @classmethod
    def from_query(cls, data) -> QueueFilters:
        def as_int(name):
            value = (data.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        channel = (data.get("channel") or "").strip()
        return cls(
            department=as_int("department"),
            stage=as_int("stage"),
            channel=channel if channel in Channel.values else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.department or self.stage or self.channel)

    def apply(self, qs):
        if self.department:
            qs = qs.filter(department_id=self.department)
        if self.stage:
            qs = qs.filter(stage_id=self.stage)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        return qs


def _callable_expr(moment: dt.datetime):
    policies = open_policy_ids(moment)
    if not policies:
        return Value(0, output_field=IntegerField())
    callable_when = Q(policy_id__in=policies) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=moment)
    )
    return Case(When(callable_when, then=Value(1)), default=Value(0), output_field=IntegerField())


def _parts(user, today: dt.date, filters: QueueFilters | None):
    """The queue as two index ranges — my tasks on (assignee, status, window_start), the pool
    on its partial index — so each side is read from its own index (an OR of the two made
    PostgreSQL visit the heap for every pool task, 130 ms at 2M tasks; bench/queue)."""
    base = FollowUpTask.objects.visible_to(user).filter(window_start__lte=today)
    if filters is not None:
        base = filters.apply(base)
    parts = [base.filter(assignee=user, status__in=QUEUE_STATUSES)]
    if takes_pool(user):
        parts.append(
            base.filter(
                assignee__isnull=True, assignee_role=AssigneeRole.AGENT_POOL, status=TaskStatus.DUE
            )
        )
    return parts


def ordered_queue(user, filters: QueueFilters | None = None, now: dt.datetime | None = None):
    """F6: callable now first (call hours open for its policy and any agreed time reached), then
    by window_end (the most urgent first; overdue ones are oldest), then id. Rows of
    (pk, callable, window_end): a page of them is turned into tasks by ``fetch_rows``."""
    moment = local_now(now)
    callable_expr = _callable_expr(moment)
    parts = [
        p.annotate(callable=callable_expr).values_list("pk", "callable", "window_end").order_by()
        for p in _parts(user, moment.date(), filters)
    ]
    qs = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    return qs.order_by("-callable", "window_end", "pk")


def fetch_rows(page_rows) -> list:
    """The tasks of one page of ``ordered_queue``, in its order, with what a row shows."""
    order = {pk: (i, flag) for i, (pk, flag, _end) in enumerate(page_rows)}
    tasks = (
        FollowUpTask.objects.filter(pk__in=list(order))
        .select_related("patient", "department", "stage", "visit")
        .only(*ROW_FIELDS)
    )
    rows = sorted(tasks, key=lambda t: order[t.pk][0])
    for task in rows:
        task.callable = order[task.pk][1]
    return rows


@dataclass
class QueueCounts:
    due: int = 0  # window open and not yet closed
    overdue: int = 0  # window closed, still open (F7)
    done_today: int = 0  # completed or unreachable by me today
    waiting: int = 0  # rescheduled to a later time today or after (F8)

    @property
    def total(self) -> int:
        return self.due + self.overdue


def queue_counts(user, now: dt.datetime | None = None) -> QueueCounts:
    """The counters above the queue: one aggregate per index range, plus done today."""
    moment = local_now(now)
    today = moment.date()
    start, end = day_bounds(today)
    counts = QueueCounts()
    for part in _parts(user, today, None):
        row = part.aggregate(
            due=Count("pk", filter=Q(window_end__gte=today)),
            overdue=Count("pk", filter=Q(window_end__lt=today)),
            waiting=Count("pk", filter=Q(next_attempt_at__gt=moment)),
        )
        counts.due += row["due"]
        counts.overdue += row["overdue"]
        counts.waiting += row["waiting"]
    counts.done_today = (
        FollowUpTask.objects.visible_to(user)
        .filter(assignee=user, completed_at__gte=start, completed_at__lt=end)
        .filter(status__in=DONE_STATUSES)
        .count()
    )
    return counts


class KnownCountPaginator(Paginator):
    """The unfiltered queue's size is already known from ``queue_counts``: no second COUNT."""

    def __init__(self, *args, known_count: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._known = known_count

    @cached_property
    def count(self):
        return self._known if self._known is not None else super().count


def decorate(rows, *, now: dt.datetime | None = None) -> list:
    """Per-row flags the template shows: callable now, overdue, waiting for the agreed time."""
    moment = local_now(now)
    today = moment.date()
    for task in rows:
        task.is_callable = bool(getattr(task, "callable", 0))
        task.overdue = task.window_end < today
        task.waiting = bool(task.next_attempt_at and task.next_attempt_at > moment)
    return rows


def next_callable(user, *, exclude=(), now: dt.datetime | None = None, limit: int = 5):
    """F6: the next tasks to open after a save: callable now, in queue order."""
    skip = set(exclude)
    rows = [r for r in ordered_queue(user, now=now)[: limit + len(skip)] if r[0] not in skip]
    return [t for t in fetch_rows(rows[:limit]) if t.callable]


# -- supervisors (F12, item 8) ---------------------------------------------------------------


def agents():
    from careloop.accounts.models import User

    return User.objects.filter(is_active=True, groups__name=Role.AGENT).order_by("username")


def workload(user, now: dt.datetime | None = None) -> list[dict]:
    """Per agent: open tasks, due now, done today and this month (completed or unreachable)."""
    moment = local_now(now)
    today = moment.date()
    day_start, day_end = day_bounds(today)
    month_start, _ = day_bounds(today.replace(day=1))
    people = list(agents())
    done = Q(status__in=DONE_STATUSES)
    rows = (
        FollowUpTask.objects.visible_to(user)
        .filter(assignee__in=people)
        .filter(
            Q(status__in=(TaskStatus.PLANNED, *QUEUE_STATUSES))
            | (done & Q(completed_at__gte=month_start))
        )
        .order_by()
        .values("assignee_id")
        .annotate(
            open=Count("pk", filter=Q(status__in=(TaskStatus.PLANNED, *QUEUE_STATUSES))),
            due=Count("pk", filter=Q(status__in=QUEUE_STATUSES, window_start__lte=today)),
            done_today=Count(
                "pk", filter=done & Q(completed_at__gte=day_start, completed_at__lt=day_end)
            ),
            done_month=Count("pk", filter=done & Q(completed_at__gte=month_start)),
        )
    )
    by_id = {r["assignee_id"]: r for r in rows}
    empty = {"open": 0, "due": 0, "done_today": 0, "done_month": 0}
    return [{"user": p, **{k: by_id.get(p.pk, empty)[k] for k in empty}} for p in people]


def pool_size(user, today: dt.date | None = None) -> int:
    today = today or local_now().date()
    return (
        FollowUpTask.objects.visible_to(user)
        .filter(
            assignee__isnull=True,
            assignee_role=AssigneeRole.AGENT_POOL,
            status=TaskStatus.DUE,
            window_start__lte=today,
        )
        .count()
    )


def board(user, now: dt.datetime | None = None) -> dict:
    """Today's progress per agent and per department: due, in progress, done, unreachable."""
    moment = local_now(now)
    today = moment.date()
    start, end = day_bounds(today)
    today_done = Q(completed_at__gte=start, completed_at__lt=end)
    wanted = Q(status__in=QUEUE_STATUSES, window_start__lte=today) | (
        Q(status__in=DONE_STATUSES) & today_done
    )
    counts = {
        "due": Count("pk", filter=Q(status=TaskStatus.DUE)),
        "in_progress": Count("pk", filter=Q(status=TaskStatus.IN_PROGRESS)),
        "done": Count("pk", filter=Q(status=TaskStatus.COMPLETED)),
        "unreachable": Count("pk", filter=Q(status=TaskStatus.UNREACHABLE)),
    }
    base = FollowUpTask.objects.visible_to(user).filter(wanted).order_by()
    people = list(agents())
    per_agent = {
        r["assignee_id"]: r
        for r in base.filter(assignee__in=people).values("assignee_id").annotate(**counts)
    }
    zero = dict.fromkeys(counts, 0)
    agent_rows = [{"user": p, **{k: per_agent.get(p.pk, zero)[k] for k in counts}} for p in people]
    dept_rows = list(
        base.values("department_id", "department__name")
        .annotate(**counts)
        .order_by("department__name")
    )
    totals = {k: sum(r[k] for r in dept_rows) for k in counts}
    return {"agents": agent_rows, "departments": dept_rows, "totals": totals, "at": moment}


def rows_html(rows, *, claim_prefix: str) -> str:
    """The queue's rows as HTML, built in Python: the Django template loop over 50 rows was
    two thirds of the page's time (bench/queue). Same markup the template produced; one form
    around the table carries the CSRF token, each button its own ``formaction``."""
    from django.template.defaultfilters import date as date_filter
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext

    out = []
    start_label, continue_label = gettext("开始回访"), gettext("继续回访")
    overdue = format_html(
        ' <span class="badge text-bg-danger" data-flag="overdue">{}</span>', gettext("逾期")
    )
    callable_badge = format_html(
        '<span class="badge text-bg-success" data-flag="callable">{}</span>', gettext("可拨打")
    )
    in_progress = format_html('<span class="badge text-bg-primary">{}</span>', gettext("回访中"))
    for i, t in enumerate(rows):
        patient, visit = t.patient, t.visit
        when = visit.discharged_at or visit.visit_at
        stage = t.stage.name
        if t.sequence > 1:
            stage += "（" + gettext("第 %(n)s 次") % {"n": t.sequence} + "）"
        flags = []
        if t.is_callable:
            flags.append(callable_badge)
        if t.next_attempt_at:
            at = date_filter(timezone.localtime(t.next_attempt_at), "m-d H:i")
            if t.waiting:
                flags.append(format_html(
                    '<span class="badge text-bg-warning" data-flag="waiting">{}</span>',
                    gettext("约定 %(at)s 再回访") % {"at": at},
                ))  # fmt: skip
            else:
                flags.append(format_html(
                    '<span class="small text-muted">{}</span>', gettext("约定 %(at)s") % {"at": at}
                ))  # fmt: skip
        if t.status == "in_progress":
            flags.append(in_progress)
        out.append(format_html(
            '<tr data-task="{}"{}><td>{}{} <span class="small text-muted">{}</span></td>'
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} – {}{}</td><td>{}</td>"
            '<td class="text-end"><button type="submit" formaction="{}{}/claim/" '
            'class="btn btn-sm {} claim-button"{} aria-label="{}">{}</button></td></tr>',
            t.pk, mark_safe(' class="table-success"') if t.is_callable else "",
            patient.name, (" " + patient.title) if patient.title else "", patient.patient_no,
            t.department.name, stage, t.get_channel_display(),
            date_filter(timezone.localtime(when), "Y-m-d") if when else "",
            date_filter(t.window_start, "m-d"), date_filter(t.window_end, "m-d"),
            overdue if t.overdue else "", _join(flags),
            claim_prefix, t.pk, "btn-primary" if t.is_callable else "btn-outline-primary",
            mark_safe(" autofocus") if i == 0 else "",
            gettext("开始回访 %(name)s") % {"name": patient.name},
            continue_label if t.status == "in_progress" else start_label,
        ))  # fmt: skip
    return _join(out)


def _join(parts) -> str:
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe

    return mark_safe("".join(conditional_escape(p) for p in parts))  # noqa: S308 — escaped
