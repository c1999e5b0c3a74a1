"""The follow-up planner (F1–F7, F12, E1–E7, P5): turns visits into tasks for every active
policy. Idempotent — a second run with the same ``as_of`` changes nothing — and incremental:
it normally looks only at the visits intake marked as changed (``patients.VisitChange``) and
the P5 events not yet applied; a policy that was activated or edited gets one full pass.

The rules themselves are plain functions in ``planning.py``; this module loads facts in
chunks, compares what should exist with what does, and writes the difference. New tasks go in
with one raw multi-row insert (COPY on PostgreSQL): the ORM's bulk_create was the largest cost
of a first plan over a million visits (bench/plan).
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from careloop.accounts.roles import Role
from careloop.calendars.services import get_calendar
from careloop.followup.choices import AssigneeRole, TaskEventKind, TaskStatus
from careloop.followup.models import FollowUpTask, Policy, Stage, TaskEvent
from careloop.followup.planning import (
    StageRule,
    VisitFacts,
    anchor_date,
    anchor_time,
    exclusion,
    plan_visit,
    repeat_window,
    window,
)
from careloop.lib.icd10 import parse_codes
from careloop.lib.workdays import WorkCalendar
from careloop.org.models import Department, Leave, RosterEntry
from careloop.patients.choices import EventKind, VisitStatus
from careloop.patients.models import (
    Diagnosis,
    PatientEvent,
    PatientPhone,
    Visit,
    VisitChange,
)

logger = logging.getLogger("careloop.followup")

CHUNK = 5000
OPEN = {TaskStatus.PLANNED, TaskStatus.DUE, TaskStatus.IN_PROGRESS}
FINAL = {TaskStatus.COMPLETED, TaskStatus.UNREACHABLE}

# Columns of a new task, in insert order.
INSERT_COLUMNS = (
    "policy_id", "stage_id", "visit_id", "patient_id", "department_id", "sequence", "channel",
    "assignee_role", "assignee_id", "anchor_at", "window_start", "window_end", "status",
    "exclusion", "lifted", "recovered", "cancel_reason", "assigned_by_plan", "created_at",
    "updated_at",
)  # fmt: skip
# Columns the planner reads of an existing task.
EXISTING_COLUMNS = (
    "pk", "visit_id", "stage_id", "sequence", "status", "exclusion", "lifted", "window_start",
    "window_end", "anchor_at", "department_id", "patient_id", "assignee_id",
    "assigned_by_plan", "cancel_reason",
)  # fmt: skip


@dataclass
class Summary:
    as_of: dt.date
    full: bool = False
    visits: int = 0
    created: int = 0
    updated: int = 0
    excluded: int = 0
    cancelled: int = 0
    restored: int = 0
    events: int = 0
    opened: int = 0
    assigned: int = 0
    released: int = 0
    seconds: float = 0.0
    policies: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "full": self.full,
            "policies": self.policies,
            "visits": self.visits,
            "created": self.created,
            "updated": self.updated,
            "excluded": self.excluded,
            "cancelled": self.cancelled,
            "restored": self.restored,
            "events": self.events,
            "opened": self.opened,
            "assigned": self.assigned,
            "released": self.released,
            "seconds": round(self.seconds, 3),
        }


# -- loading ---------------------------------------------------------------------------------


def stage_rules(policies: Iterable[Policy]) -> list[StageRule]:
    rules = []
    stages = (
        Stage.objects.filter(policy__in=list(policies))
        .select_related("policy")
        .prefetch_related("departments")
        .order_by("policy__slug", "position", "pk")
    )
    for s in stages:
        rules.append(
            StageRule(
                id=s.pk,
                policy_id=s.policy_id,
                code=s.code,
                visit_types=frozenset(s.visit_types or ()),
                department_kinds=frozenset(s.department_kinds or ()),
                departments=frozenset(d.pk for d in s.departments.all()),
                first_visit=s.first_visit,
                lost=s.lost,
                special=s.special,
                chronic=s.chronic,
                min_cost=s.min_cost,
                age_min=s.age_min,
                age_max=s.age_max,
                diagnosis=parse_codes(s.diagnosis_codes),
                anchor=s.anchor,
                depends_on_id=s.depends_on_id,
                after_recovery=s.after_recovery,
                start_day=s.window_start_day,
                last_day=s.window_last_day,
                channel=s.channel,
                assignee_role=s.assignee_role,
                repeat=s.repeat,
                repeat_every_days=s.repeat_every_days,
                repeat_max=s.repeat_max,
                effective_from=s.policy.effective_from,
                sensitive=parse_codes(s.policy.sensitive_icd10),
            )
        )
    return rules


_VISIT_COLUMNS = (
    "pk", "patient_id", "department_id", "visit_type", "admitted_at", "discharged_at",
    "visit_at", "first_visit", "lost", "special", "chronic", "total_cost", "cleared_out",
    "status", "responsible_nurse_id", "attending_doctor_id", "patient__birth_date",
    "patient__open_dispute", "patient__do_not_contact", "patient__is_deceased", "has_phone",
)  # fmt: skip


class FactLoader:
    """Loads ``VisitFacts`` for a chunk of visits with four flat queries."""

    def __init__(self, need_diagnoses: bool):
        self.kinds = dict(Department.objects.values_list("pk", "kind"))
        self.tz = timezone.get_current_timezone()
        self.need_diagnoses = need_diagnoses

    def _local(self, moment):
        return moment.astimezone(self.tz).date() if moment is not None else None

    def load(self, visits_q: Q) -> list[VisitFacts]:
        phone = PatientPhone.objects.filter(patient_id=OuterRef("patient_id"))
        rows = list(
            Visit.objects.filter(visits_q)
            .annotate(has_phone=Exists(phone))
            .order_by("pk")
            .values_list(*_VISIT_COLUMNS)
        )
        if not rows:
            return []
        codes = defaultdict(list)
        if self.need_diagnoses:
            ids = [r[0] for r in rows]
            for visit_id, code in (
                Diagnosis.objects.filter(visit_id__gte=ids[0], visit_id__lte=ids[-1])
                .exclude(code="")
                .values_list("visit_id", "code")
                .order_by()
            ):
                codes[visit_id].append(code)
        local = self._local
        kinds = self.kinds
        facts = []
        for (
            pk, patient_id, department_id, visit_type, admitted_at, discharged_at, visit_at,
            first_visit, lost, special, chronic, total_cost, cleared_out, status, nurse_id,
            doctor_id, birth_date, dispute, refused, deceased, has_phone,
        ) in rows:  # fmt: skip
            facts.append(
                VisitFacts(
                    pk, patient_id, department_id, kinds.get(department_id, ""), visit_type,
                    admitted_at, discharged_at, visit_at, local(discharged_at), local(visit_at),
                    first_visit, lost, special, chronic, total_cost, birth_date, cleared_out,
                    status == VisitStatus.CANCELLED, tuple(codes.get(pk, ())), dispute,
                    refused, deceased, has_phone, nurse_id, doctor_id,
                )
            )  # fmt: skip
        return facts


class People:
    """F12: who can hold tasks on ``as_of`` and who stands in for someone who cannot."""

    def __init__(self, as_of: dt.date):
        from django.contrib.auth import get_user_model

        User = get_user_model()
        self.as_of = as_of
        on_leave = set(
            Leave.objects.filter(starts_on__lte=as_of, ends_on__gte=as_of).values_list(
                "staff_id", flat=True
            )
        )
        self.inactive = set(User.objects.filter(is_active=False).values_list("pk", flat=True))
        self.unavailable = self.inactive | on_leave
        self._stand_in: dict[tuple[int, str], int | None] = {}

    def available(self, user_id: int | None) -> bool:
        return user_id is not None and user_id not in self.unavailable

    def stand_in(self, department_id: int, role: str) -> int | None:
        """The head nurse (for a nurse's task) or department head (for a doctor's) of the
        visit's department, when the named person is gone or unknown."""
        key = (department_id, role)
        if key not in self._stand_in:
            from django.contrib.auth import get_user_model

            wanted = Role.HEAD_NURSE if role == AssigneeRole.RESPONSIBLE_NURSE else Role.DEPT_HEAD
            candidates = (
                get_user_model()
                .objects.filter(departments=department_id, groups__name=wanted, is_active=True)
                .exclude(pk__in=self.unavailable)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            self._stand_in[key] = next(iter(candidates), None)
        return self._stand_in[key]

    def resolve(self, stage: StageRule, visit: VisitFacts) -> int | None:
        if stage.assignee_role == AssigneeRole.AGENT_POOL:
            return None
        named = (
            visit.responsible_nurse_id
            if stage.assignee_role == AssigneeRole.RESPONSIBLE_NURSE
            else visit.attending_doctor_id
        )
        if self.available(named):
            return named
        return self.stand_in(visit.department_id, stage.assignee_role)


# -- writing ---------------------------------------------------------------------------------


def insert_tasks(rows: list[tuple]) -> None:
    """One raw load of new task rows (columns ``INSERT_COLUMNS``)."""
    if not rows:
        return
    table = FollowUpTask._meta.db_table
    cols = ", ".join(INSERT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # Django stores SQLite datetimes as naive UTC text; writing that directly skips
            # adapt_datetimefield_value, which was 22 s of a 1M-visit plan.
            adapted = [tuple(_sqlite_value(v) for v in row) for row in rows]
            marks = ", ".join(["%s"] * len(INSERT_COLUMNS))
            # Table and column names are our own constants; values are parameters.
            sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, adapted)


def _sqlite_value(value):
    if isinstance(value, dt.datetime):
        return str(value.astimezone(dt.UTC).replace(tzinfo=None))
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass
class Change:
    pk: int
    fields: dict
    event: str | None = None
    note: str = ""


def _status_for(window_start: dt.date, as_of: dt.date) -> str:
    return TaskStatus.DUE if window_start <= as_of else TaskStatus.PLANNED


class Planner:
    def __init__(self, as_of: dt.date, policies: list[Policy], cal: WorkCalendar, summary):
        self.as_of = as_of
        self.cal = cal
        self.summary = summary
        self.policies = policies
        self.rules = stage_rules(policies)
        self.by_id = {r.id: r for r in self.rules}
        self.roots = [r for r in self.rules if r.is_root]
        self.people = People(as_of)
        self.loader = FactLoader(need_diagnoses=any(r.sensitive or r.diagnosis for r in self.rules))
        self.policy_ids = [p.pk for p in policies]
        self.tz = timezone.get_current_timezone()
        self.now = timezone.now()

    # One chunk of visits: compare, then write.
    def plan_chunk(self, facts: list[VisitFacts], notes: dict[int, str] | None = None) -> None:
        if not facts or not self.rules:
            return
        ids = [f.visit_id for f in facts]
        existing = defaultdict(dict)
        for row in (
            # By visit only: with the policy in the filter both databases chose the policy index,
            # which spans the whole table, and every chunk scanned every task (bench/plan).
            # Tasks of inactive policies are skipped below (their stages are not in by_id).
            FollowUpTask.objects.filter(visit_id__in=ids).order_by().values_list(*EXISTING_COLUMNS)
        ):
            existing[row[1]][(row[2], row[3])] = row
        new_rows, changes = [], []
        for visit in facts:
            note = (notes or {}).get(visit.visit_id, "")
            self._plan_visit(visit, existing.get(visit.visit_id, {}), new_rows, changes, note)
        insert_tasks(new_rows)
        self.summary.created += len(new_rows)
        self._apply(changes)
        self.summary.visits += len(facts)

    def _plan_visit(self, visit, existing, new_rows, changes, note):
        desired = {(p.stage_id, 1): p for p in plan_visit(visit, self.roots, self.cal)}
        for key, row in existing.items():
            stage = self.by_id.get(key[0])
            if stage is None:
                continue
            change = self._compare(visit, stage, row, desired.pop(key, None))
            if change is not None:
                change.note = change.note or note
                changes.append(change)
        for (stage_id, seq), planned in desired.items():
            stage = self.by_id[stage_id]
            excl = planned.exclusion
            status = TaskStatus.EXCLUDED if excl else _status_for(planned.window_start, self.as_of)
            new_rows.append(
                (
                    stage.policy_id, stage_id, visit.visit_id, visit.patient_id,
                    visit.department_id, seq, stage.channel, stage.assignee_role,
                    self.people.resolve(stage, visit), anchor_time(stage, visit),
                    planned.window_start, planned.window_end, status, excl, "", None, "", True,
                    self.now, self.now,
                )
            )  # fmt: skip
            if excl:
                self.summary.excluded += 1

    def _target_window(self, visit, stage, row, planned):
        if planned is not None:
            return planned.window_start, planned.window_end, anchor_time(stage, visit)
        _pk, _v, _s, seq, *_rest = row
        anchor_at = row[9]
        if seq > 1:
            return (*repeat_window(self._local(anchor_at), stage, self.cal), anchor_at)
        if stage.anchor == "previous":
            return (*window(self._local(anchor_at), stage, self.cal), anchor_at)
        anchor = anchor_date(stage, visit)
        if anchor is None:
            return None
        return (*window(anchor, stage, self.cal), anchor_time(stage, visit))

    def _local(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()

    def _compare(self, visit, stage, row, planned) -> Change | None:
        (pk, _v, _s, seq, status, excl_now, lifted, w_start, w_end, anchor_at, dept, patient,
         assignee, by_plan, _cancel_reason) = row  # fmt: skip
        if status in FINAL:
            return None
        is_root = stage.is_root and seq == 1
        target = None
        if not visit.cancelled and (not is_root or planned is not None):
            target = self._target_window(visit, stage, row, planned)
        if target is None:
            # P5 (A11, A13) or the visit no longer meets the stage: cancel what is still open.
            if status == TaskStatus.CANCELLED:
                return None
            reason = (
                "就诊已取消"
                if visit.cancelled
                else ("出院已取消" if visit.discharged_at is None else "不再符合阶段条件")
            )
            self.summary.cancelled += 1
            return Change(
                pk,
                {"status": TaskStatus.CANCELLED, "exclusion": "", "cancel_reason": reason},
                TaskEventKind.CANCELLED,
                reason,
            )
        start, end, new_anchor = target
        fields = {}
        event = None
        lifted_set = frozenset(c for c in lifted.split(",") if c)
        code = exclusion(visit, stage, lifted_set)
        if status == TaskStatus.CANCELLED:
            if not is_root:
                return None  # a dependent task stays cancelled; the next completion recreates it
            fields.update(cancel_reason="")
            status_new = TaskStatus.EXCLUDED if code else _status_for(start, self.as_of)
            fields.update(status=status_new, exclusion=code)
            event = TaskEventKind.CREATED
            self.summary.restored += 1
        elif status == TaskStatus.EXCLUDED:
            # E7: an exclusion stays until a supervisor lifts it; a higher one replaces it.
            if code and code != excl_now:
                fields["exclusion"] = code
                event = TaskEventKind.EXCLUDED
        elif code:
            fields.update(status=TaskStatus.EXCLUDED, exclusion=code)
            event = TaskEventKind.EXCLUDED
            self.summary.excluded += 1
        elif status != TaskStatus.IN_PROGRESS:
            wanted = _status_for(start, self.as_of)
            if wanted != status:
                fields["status"] = wanted
        if (start, end) != (w_start, w_end):
            fields.update(window_start=start, window_end=end)
            event = event or TaskEventKind.MOVED
        if new_anchor is not None and new_anchor != anchor_at:
            fields["anchor_at"] = new_anchor
        if dept != visit.department_id:
            fields["department_id"] = visit.department_id
            event = event or TaskEventKind.MOVED
        if patient != visit.patient_id:
            fields["patient_id"] = visit.patient_id
            event = event or TaskEventKind.MERGED
        if stage.assignee_role != AssigneeRole.AGENT_POOL and (
            by_plan or not self.people.available(assignee)
        ):
            wanted_person = self.people.resolve(stage, visit)
            if wanted_person != assignee:
                fields.update(assignee_id=wanted_person, assigned_by_plan=True)
                event = event or TaskEventKind.ASSIGNED
        if not fields:
            return None
        return Change(pk, fields, event)

    def _apply(self, changes: list[Change]) -> None:
        if not changes:
            return
        self.summary.updated += len(changes)
        by_fields = defaultdict(list)
        for change in changes:
            by_fields[tuple(sorted(change.fields))].append(change)
        for names, group in by_fields.items():
            objs = []
            for change in group:
                obj = FollowUpTask(pk=change.pk, **change.fields)
                obj.updated_at = self.now
                objs.append(obj)
            FollowUpTask.objects.bulk_update(objs, [*names, "updated_at"], batch_size=500)
        TaskEvent.objects.bulk_create(
            [
                TaskEvent(
                    task_id=c.pk,
                    kind=c.event,
                    at=self.now,
                    note=c.note,
                    detail={k: _jsonable(v) for k, v in c.fields.items()},
                )
                for c in changes
                if c.event
            ],
            batch_size=1000,
        )


def _jsonable(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


# -- the entry points ------------------------------------------------------------------------


_EVENT_NOTES = {
    EventKind.DEATH: "P5 患者死亡",
    EventKind.ADMIT_CANCELLED: "P5 取消入院（A11）",
    EventKind.DISCHARGE_CANCELLED: "P5 取消出院（A13）",
    EventKind.DEPARTMENT_CHANGED: "P5 科室变更（A08）",
    EventKind.DISCHARGE_TIME_CHANGED: "P5 出院时间变更（A08）",
    EventKind.MERGED: "P5 患者合并（A40）",
    EventKind.REFUSED: "E6 患者拒绝回访",
}


def plan(as_of: dt.date | None = None, full: bool = False) -> dict:
    """Plan every active policy; return a summary. ``full`` recomputes every visit (done
    automatically once for a policy that was activated or edited)."""
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    summary = Summary(as_of=as_of, full=full)
    policies = list(Policy.objects.filter(is_active=True).order_by("slug"))
    summary.policies = [p.slug for p in policies]
    cal = get_calendar()
    pending_full = [p for p in policies if p.needs_full_plan]
    if pending_full:
        summary.full = full = True
    planner = Planner(as_of, policies, cal, summary)

    # P5 events and intake's change marks, read up to a fixed point so later ones wait.
    last_change = VisitChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    events = list(
        PatientEvent.objects.filter(planned_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "patient_id", "visit_id", "kind")
    )
    if full:
        last = 0
        while True:
            with transaction.atomic():
                facts = planner.loader.load(Q(pk__gt=last, pk__lte=last + CHUNK * 4))
                if not facts:
                    more = (
                        Visit.objects.filter(pk__gt=last)
                        .order_by("pk")
                        .values_list("pk", flat=True)
                        .first()
                    )
                    if more is None:
                        break
                    last = more - 1
                    continue
                # Chunks by id range keep the diagnosis query a range scan.
                for i in range(0, len(facts), CHUNK):
                    planner.plan_chunk(facts[i : i + CHUNK])
                last = facts[-1].visit_id
        with transaction.atomic():
            Policy.objects.filter(pk__in=[p.pk for p in pending_full]).update(needs_full_plan=False)
            _mark_applied(events, last_change, summary)
    else:
        visit_ids = set(
            VisitChange.objects.filter(pk__lte=last_change).values_list("visit_id", flat=True)
        )
        notes: dict[int, str] = {}
        patients = set()
        for _pk, patient_id, visit_id, kind in events:
            patients.add(patient_id)
            if visit_id:
                visit_ids.add(visit_id)
                notes[visit_id] = _EVENT_NOTES.get(kind, "")
        # A patient-level change (death, dispute, refusal, a merge) touches all their visits.
        patients |= set(Visit.objects.filter(pk__in=visit_ids).values_list("patient_id", flat=True))
        if patients:
            for patient_chunk in _chunks(sorted(patients), 2000):
                visit_ids |= set(
                    Visit.objects.filter(patient_id__in=patient_chunk).values_list("pk", flat=True)
                )
            death_notes = {p for _pk, p, _v, kind in events if kind == EventKind.DEATH}
            if death_notes:
                for visit_id in Visit.objects.filter(patient_id__in=death_notes).values_list(
                    "pk", flat=True
                ):
                    notes.setdefault(visit_id, _EVENT_NOTES[EventKind.DEATH])
        for id_chunk in _chunks(sorted(visit_ids), CHUNK):
            with transaction.atomic():
                planner.plan_chunk(planner.loader.load(Q(pk__in=id_chunk)), notes)
        with transaction.atomic():
            _mark_applied(events, last_change, summary)
    with transaction.atomic():
        open_due(planner, summary)
        release_departed(planner, summary)
        assign_pool(planner, summary)
    summary.seconds = time.perf_counter() - started
    if summary.created or summary.updated or summary.assigned or summary.opened:
        logger.info("plan %s", summary.as_dict())
    return summary.as_dict()


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _mark_applied(events, last_change, summary) -> None:
    if events:
        PatientEvent.objects.filter(pk__in=[e[0] for e in events]).update(planned_at=timezone.now())
    summary.events = len(events)
    if last_change:
        VisitChange.objects.filter(pk__lte=last_change).delete()


def open_due(planner: Planner, summary: Summary) -> None:
    """F7: planned → due when the window opens (and back when a window moved later)."""
    as_of = planner.as_of
    summary.opened = FollowUpTask.objects.filter(
        status=TaskStatus.PLANNED, window_start__lte=as_of
    ).update(status=TaskStatus.DUE, updated_at=planner.now)
    FollowUpTask.objects.filter(status=TaskStatus.DUE, window_start__gt=as_of).update(
        status=TaskStatus.PLANNED, updated_at=planner.now
    )


def release_departed(planner: Planner, summary: Summary) -> None:
    """F12: a person who left or is on leave keeps no open task. Pool tasks go back to the
    pool (and are rebalanced below; one in progress becomes due again); a nurse's or doctor's
    go to the department's stand-in."""
    gone = planner.people.unavailable
    if not gone:
        return
    rows = list(
        FollowUpTask.objects.filter(assignee_id__in=gone, status__in=list(OPEN))
        .order_by()
        .values_list("pk", "assignee_role", "department_id", "status")
    )
    changes = []
    for pk, role, department_id, status in rows:
        fields = {"assignee_id": None, "assigned_by_plan": True}
        if role != AssigneeRole.AGENT_POOL:
            fields["assignee_id"] = planner.people.stand_in(department_id, role)
        elif status == TaskStatus.IN_PROGRESS:
            fields.update(status=TaskStatus.DUE, claimed_at=None)
        changes.append(Change(pk, fields, TaskEventKind.REASSIGNED, "原执行人离岗或请假（F12）"))
    planner._apply(changes)
    summary.released = len(changes)


def agents_on_duty(as_of: dt.date, unavailable: set[int]) -> list[int]:
    """Follow-up agents rostered on ``as_of`` (any shift that day), available."""
    return sorted(
        set(
            RosterEntry.objects.filter(
                date=as_of, staff__groups__name=Role.AGENT, staff__is_active=True
            ).values_list("staff_id", flat=True)
        )
        - unavailable
    )


def assign_pool(planner: Planner, summary: Summary) -> None:
    """F12: open pool tasks without an assignee are balanced over the agents on duty by open
    workload (fewest open tasks first). Nobody on duty: they wait in the pool."""
    agents = agents_on_duty(planner.as_of, planner.people.unavailable)
    if not agents:
        return
    waiting = list(
        FollowUpTask.objects.filter(
            assignee_role=AssigneeRole.AGENT_POOL,
            assignee__isnull=True,
            status=TaskStatus.DUE,
        )
        .order_by("window_end", "pk")
        .values_list("pk", flat=True)
    )
    if not waiting:
        return
    load = dict(
        FollowUpTask.objects.filter(assignee_id__in=agents, status__in=list(OPEN))
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    heap = [(load.get(a, 0), a) for a in agents]
    heapq.heapify(heap)
    by_agent = defaultdict(list)
    for pk in waiting:
        n, agent = heapq.heappop(heap)
        by_agent[agent].append(pk)
        heapq.heappush(heap, (n + 1, agent))
    for agent, pks in by_agent.items():
        for chunk in _chunks(pks, 1000):
            FollowUpTask.objects.filter(pk__in=chunk, assignee__isnull=True).update(
                assignee_id=agent, assigned_by_plan=True, updated_at=planner.now
            )
    summary.assigned = len(waiting)
