"""Report fixtures (R1–R5): a builder for visits, tasks, records and questionnaire responses
written straight through the ORM (the planner, the call screen and intake are tested apart),
and ``october`` — the hand-built fixture month of issue 7 whose every R1 cell is computed by
hand below and asserted in ``test_fixture_month``.

Dates are written as text in hospital time (settings.TIME_ZONE, Asia/Shanghai):
"2026-10-05" for a day, "2026-10-31 23:30" for a moment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from careloop.followup.choices import TaskStatus

# The day the fixture month is looked at (R5: open tasks whose window closed before it are
# overdue). October 2026 is over; November is the current month.
TODAY = dt.date(2026, 11, 5)


def day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def moment(value) -> dt.datetime:
    """'2026-10-31 23:30' in hospital time → an aware datetime."""
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.fromisoformat(value))


class ReportBuilder:
    """Rows as the rest of CareLoop writes them, with every field a report reads under the
    test's control. One visit (and patient) per task unless ``visit=`` is given."""

    def __init__(self, org):
        self.org = org
        self.n = 0
        self._stages = {}
        self._agent = None
        self._version = None

    # --- reference rows ---------------------------------------------------------------------

    def dept(self, dept):
        return self.org[dept] if isinstance(dept, str) else dept

    def stage(self, policy: str = "report-policy", channel: str = "phone"):
        """The one stage of a test policy (created on first use); ``policy`` is its slug."""
        from careloop.followup.models import Policy, Stage

        if policy not in self._stages:
            p = Policy.objects.create(slug=policy, name=f"统计测试制度 {policy}", is_active=True)
            self._stages[policy] = Stage.objects.create(
                policy=p, code="phone", name="出院电话回访", visit_types=["inpatient"],
                anchor="discharge", window_start_day=7, channel=channel,
                assignee_role="agent_pool", questionnaire="inpatient",
            )  # fmt: skip
        return self._stages[policy]

    def policy(self, slug: str = "report-policy"):
        return self.stage(slug).policy

    @property
    def agent(self):
        """The follow-up agent who writes the records (FollowUpRecord.by is required)."""
        if self._agent is None:
            from careloop.accounts.models import User

            self._agent = User.objects.create_user(
                username="report.agent", password="x", full_name="回访员甲"
            )
        return self._agent

    @property
    def version(self):
        """The published inpatient questionnaire (Q2 preset: attitude, guidance, skill, ethics,
        overall)."""
        if self._version is None:
            from careloop.surveys.presets import ensure_presets
            from careloop.surveys.services import current_version

            ensure_presets()
            self._version = current_version("inpatient")
        return self._version

    # --- rows -------------------------------------------------------------------------------

    def visit(
        self,
        dept="cardio",
        *,
        discharged=None,
        visit_type: str = "inpatient",
        status: str = "active",
        seen=None,
        patient=None,
        **fields,
    ):
        from careloop.patients.models import Patient, PatientPhone, Visit

        self.n += 1
        n = self.n
        if patient is None:
            patient = Patient.objects.create(patient_no=f"R{n:05d}", name=f"病人{n}", sex="1")
            PatientPhone.objects.create(
                patient=patient, number=f"1370000{n:04d}", is_preferred=True
            )
        values = {}
        if discharged is not None:
            out = moment(discharged)
            values.update(discharged_at=out, admitted_at=out - dt.timedelta(days=5))
        if seen is not None:
            values["visit_at"] = moment(seen)
        return Visit.objects.create(
            patient=patient, visit_no=f"ZY{n:05d}", department=self.dept(dept),
            visit_type=visit_type, status=status, **values, **fields,
        )  # fmt: skip

    def task(
        self,
        dept="cardio",
        *,
        window,
        status: str = TaskStatus.DUE,
        channel: str = "phone",
        completed_at=None,
        exclusion: str = "",
        policy: str = "report-policy",
        visit=None,
        discharged=None,
        **fields,
    ):
        """A task with window ``(first day, last day)``; its visit is discharged ``discharged``
        (default: a week before the window opens, 10:00)."""
        from careloop.followup.models import FollowUpTask

        start, end = day(window[0]), day(window[1])
        if visit is None:
            if discharged is None:
                discharged = dt.datetime.combine(start - dt.timedelta(days=7), dt.time(10))
            visit = self.visit(dept, discharged=discharged)
        stage = self.stage(policy)
        if status == TaskStatus.EXCLUDED and not exclusion:
            raise ValueError("an excluded task needs its exclusion (E1–E6)")
        return FollowUpTask.objects.create(
            policy=stage.policy, stage=stage, visit=visit, patient=visit.patient,
            department=visit.department, channel=channel, assignee_role="agent_pool",
            anchor_at=visit.discharged_at or moment(dt.datetime.combine(start, dt.time(10))),
            window_start=start, window_end=end, status=status, exclusion=exclusion,
            completed_at=None if completed_at is None else moment(completed_at), **fields,
        )  # fmt: skip

    def record(self, task, *, overall: str = "", opinions: str = "", by=None, at=None, **fields):
        """F9: the 回访登记表 row of a completed task, with its 总评价 ``overall``."""
        from careloop.followup.models import FollowUpRecord

        return FollowUpRecord.objects.create(
            task=task, condition=fields.pop("condition", "恢复良好"), opinions=opinions,
            overall=overall, by=by or self.agent,
            at=moment(at) if at else (task.completed_at or timezone.now()), **fields,
        )  # fmt: skip

    def response(self, task, *, channel: str = "phone", by=None, submitted_at=None, **ratings):
        """A questionnaire response with the given ratings per dimension, e.g.
        ``response(task, attitude="very_good", overall="good")``; dimensions not given are not
        answered. ``channel="sms_link"`` is the patient's own answers (no submitter)."""
        from careloop.surveys.models import Answer, Response

        questions = {q.dimension: q for q in self.version.questions.all() if q.dimension}
        unknown = set(ratings) - set(questions)
        if unknown:
            raise ValueError(f"no rating question for {sorted(unknown)}")
        response = Response.objects.create(
            version=self.version, task=task, patient=task.patient, channel=channel,
            submitted_by=None if channel == "sms_link" else (by or self.agent),
            submitted_at=moment(submitted_at or task.completed_at or timezone.now()),
        )  # fmt: skip
        Answer.objects.bulk_create(
            Answer(response=response, question=questions[dim], value=value, rating=value,
                   dimension=dim)
            for dim, value in ratings.items()
        )  # fmt: skip
        return response


@pytest.fixture
def reports(org):
    """The builder, for tests that make their own rows."""
    return ReportBuilder(org)


# --- The fixture month: October 2026, cardiology (心内) and orthopaedics (骨科) ------------------
#
# Looked at on TODAY = 2026-11-05. A task belongs to October when the earlier of its finishing
# day and its window's last day is in October (finished), or its window's last day is in October
# and before today (open → overdue), or its window's last day is in October (excluded).
# vg/g/f/p = 很好/好/一般/差; A/G/S/E = 服务态度/出院指导/技术水平/医德医风; ov = the
# response's 总评价 answer; rec = the record's 总评价 ("-" no record, "''" record without one).
#
# 心内 (cardio)
# name status      ch   window         finished           Oct? on-time  A  G  S  E  ov  rec
# C01  completed   ph   10-01..10-07   10-03 09:00        yes  yes      vg vg vg vg vg  vg
# C02  completed   ph   10-05..10-11   10-08 10:00        yes  yes      vg g  vg g  g   g
# C03  completed   ph   10-10..10-16   10-12 10:00        yes  yes      g  g  g  vg vg  vg
# C04  completed   home 10-12..10-18   10-18 23:30        yes  yes      g  f  vg g  g   g
# C05  completed   home 10-20..10-26   10-27 00:10        yes  NO(late) vg vg f  vg f   f
# C06  completed   ph   10-28..11-03   10-31 23:30        yes  yes      g  p  g  g  g   vg (agent's)
# C07  completed   ph   10-15..11-05   10-20 10:00 early  yes  yes      f  g  g  .  p   p
# C08  completed   ph   11-02..11-08   10-28 10:00 early  yes  NO(<win) .  .  .  .  .   ''
# C09  completed   sms  10-05..10-11   10-09 10:00        yes  yes      vg .  .  .  g   - (link)
# C24  completed   ph   09-28..10-04   10-01 00:10        yes  yes      .  .  .  .  .   vg
# C10  unreachable ph   10-01..10-07   10-08              yes (window)
# C11  unreachable ph   10-20..10-26   10-24              yes
# C12  due         ph   10-10..10-16   -                  overdue
# C13  in_progress ph   10-25..10-31   -                  overdue (not yet due on 10-20)
# C14  planned     ph   10-01..10-07   -                  overdue
# C15  due         ph   10-28..11-10   -                  no (November, not yet due)
# C16  excluded E4 ph   10-05..10-11   -                  excluded (death: not due)
# C17  excluded E6 ph   10-20..10-26   -                  excluded
# C18  excluded E4 ph   11-02..11-08   -                  no (November)
# C19  cancelled   ph   10-05..10-11   -                  nowhere
# C20  completed   ph   09-24..09-30   10-02 10:00 late   no (September)  p  p  p  p  p   p
# C21  completed   ph   11-01..11-07   11-03 10:00        no (November)   p  .  .  .  p   p
# C22  completed   ph   10-28..11-03   11-01 00:10        no (November: local midnight) p p
# C23  due         ph   11-02..11-08   -                  no (November)
#
# 骨科 (ortho)
# O01  completed   ph   10-03..10-09   10-05 10:00        yes  yes      vg g  vg vg vg  vg
# O02  completed   ph   10-08..10-14   10-16 10:00 late   yes  NO       g  vg f  g  g   g
# O03  completed   home 10-10..10-16   10-12 10:00        yes  yes      p  g  g  f  p   p
# O04  completed   ph   10-22..10-28   10-23 10:00        yes  yes      (no response, no record)
#                                                                       (policy "report-other")
# O05  unreachable ph   10-14..10-20   10-21              yes
# O06  excluded E4 ph   10-06..10-12   -                  excluded (death)
# O07  excluded E4 ph   10-16..10-22   -                  excluded (death)
# O08  excluded E1 ph   10-26..11-01   -                  no (window ends 11-01: November)
# O09  due         ph   10-26..10-31   -                  overdue
# O10  cancelled   ph   10-10..10-16   -                  nowhere
# O11  completed   home 09-20..09-26   10-03 10:00 late   no (September)  p  p  p  p  p   p
# O12  completed   ph   10-30..11-05   11-02 10:00        no (November)   p  .  .  .  .   p
# O13  due         ph   10-29..11-06   -                  no (November, not yet due)
# C09 is in policy "report-other" too (so both departments have one task of it).
#
# Every task's visit is an inpatient discharge a week before its window opens, 10:00. Discharges
# in October (window opening 10-08..11-07), plus the visits without tasks (D*):
#   心内: C03 C04 C05 C06 C07 C08 C11 C12 C13 C15 C17 C18 C21 C22 C23 (15)
#         + D1 10-31 23:30 + D2 10-01 00:10                                           = 17
#         not: D3 11-01 00:10 (November), D4 09-30 23:50 (September), D5 an outpatient visit
#         with a discharge time in October
#   骨科: O02 O03 O04 O05 O07 O08 O09 O10 O12 O13 (10) + D7 10-20 = 11
#         not: D8 an emergency visit with a discharge time 10-20

TASKS = [
    # name, dept, status, channel, window, completed at, exclusion,
    #   answers A G S E ov ("." unanswered; None: no response), record 总评价 (None: no record)
    ("C01", "cardio", "completed", "phone", ("2026-10-01", "2026-10-07"), "2026-10-03 09:00", "",
     "vg vg vg vg vg", "vg"),
    ("C02", "cardio", "completed", "phone", ("2026-10-05", "2026-10-11"), "2026-10-08 10:00", "",
     "vg g vg g g", "g"),
    ("C03", "cardio", "completed", "phone", ("2026-10-10", "2026-10-16"), "2026-10-12 10:00", "",
     "g g g vg vg", "vg"),
    ("C04", "cardio", "completed", "home_visit", ("2026-10-12", "2026-10-18"),
     "2026-10-18 23:30", "", "g f vg g g", "g"),
    ("C05", "cardio", "completed", "home_visit", ("2026-10-20", "2026-10-26"),
     "2026-10-27 00:10", "", "vg vg f vg f", "f"),
    ("C06", "cardio", "completed", "phone", ("2026-10-28", "2026-11-03"), "2026-10-31 23:30", "",
     "g p g g g", "vg"),
    ("C07", "cardio", "completed", "phone", ("2026-10-15", "2026-11-05"), "2026-10-20 10:00", "",
     "f g g . p", "p"),
    ("C08", "cardio", "completed", "phone", ("2026-11-02", "2026-11-08"), "2026-10-28 10:00", "",
     None, ""),
    ("C09", "cardio", "completed", "sms", ("2026-10-05", "2026-10-11"), "2026-10-09 10:00", "",
     "vg . . . g", None),
    ("C24", "cardio", "completed", "phone", ("2026-09-28", "2026-10-04"), "2026-10-01 00:10", "",
     None, "vg"),
    ("C10", "cardio", "unreachable", "phone", ("2026-10-01", "2026-10-07"), "2026-10-08 17:00", "",
     None, None),
    ("C11", "cardio", "unreachable", "phone", ("2026-10-20", "2026-10-26"), "2026-10-24 17:00", "",
     None, None),
    ("C12", "cardio", "due", "phone", ("2026-10-10", "2026-10-16"), None, "",
     None, None),
    ("C13", "cardio", "in_progress", "phone", ("2026-10-25", "2026-10-31"), None, "",
     None, None),
    ("C14", "cardio", "planned", "phone", ("2026-10-01", "2026-10-07"), None, "",
     None, None),
    ("C15", "cardio", "due", "phone", ("2026-10-28", "2026-11-10"), None, "",
     None, None),
    ("C16", "cardio", "excluded", "phone", ("2026-10-05", "2026-10-11"), None, "E4",
     None, None),
    ("C17", "cardio", "excluded", "phone", ("2026-10-20", "2026-10-26"), None, "E6",
     None, None),
    ("C18", "cardio", "excluded", "phone", ("2026-11-02", "2026-11-08"), None, "E4",
     None, None),
    ("C19", "cardio", "cancelled", "phone", ("2026-10-05", "2026-10-11"), None, "",
     None, None),
    ("C20", "cardio", "completed", "phone", ("2026-09-24", "2026-09-30"), "2026-10-02 10:00", "",
     "p p p p p", "p"),
    ("C21", "cardio", "completed", "phone", ("2026-11-01", "2026-11-07"), "2026-11-03 10:00", "",
     "p . . . p", "p"),
    ("C22", "cardio", "completed", "phone", ("2026-10-28", "2026-11-03"), "2026-11-01 00:10", "",
     "p . . . p", "p"),
    ("C23", "cardio", "due", "phone", ("2026-11-02", "2026-11-08"), None, "",
     None, None),
    ("O01", "ortho", "completed", "phone", ("2026-10-03", "2026-10-09"), "2026-10-05 10:00", "",
     "vg g vg vg vg", "vg"),
    ("O02", "ortho", "completed", "phone", ("2026-10-08", "2026-10-14"), "2026-10-16 10:00", "",
     "g vg f g g", "g"),
    ("O03", "ortho", "completed", "home_visit", ("2026-10-10", "2026-10-16"),
     "2026-10-12 10:00", "", "p g g f p", "p"),
    ("O04", "ortho", "completed", "phone", ("2026-10-22", "2026-10-28"), "2026-10-23 10:00", "",
     None, None),
    ("O05", "ortho", "unreachable", "phone", ("2026-10-14", "2026-10-20"), "2026-10-21 17:00", "",
     None, None),
    ("O06", "ortho", "excluded", "phone", ("2026-10-06", "2026-10-12"), None, "E4",
     None, None),
    ("O07", "ortho", "excluded", "phone", ("2026-10-16", "2026-10-22"), None, "E4",
     None, None),
    ("O08", "ortho", "excluded", "phone", ("2026-10-26", "2026-11-01"), None, "E1",
     None, None),
    ("O09", "ortho", "due", "phone", ("2026-10-26", "2026-10-31"), None, "",
     None, None),
    ("O10", "ortho", "cancelled", "phone", ("2026-10-10", "2026-10-16"), None, "",
     None, None),
    ("O11", "ortho", "completed", "home_visit", ("2026-09-20", "2026-09-26"),
     "2026-10-03 10:00", "", "p p p p p", "p"),
    ("O12", "ortho", "completed", "phone", ("2026-10-30", "2026-11-05"), "2026-11-02 10:00", "",
     "p . . . .", "p"),
    ("O13", "ortho", "due", "phone", ("2026-10-29", "2026-11-06"), None, "",
     None, None),
]  # fmt: skip

RATING_CODES = {"vg": "very_good", "g": "good", "f": "fair", "p": "poor"}
ANSWERED = ("attitude", "guidance", "skill", "ethics", "overall")


def answers(text: str | None) -> dict[str, str]:
    """ "vg g . f p" → {"attitude": "very_good", "guidance": "good", "ethics": "fair", …}."""
    codes = (text or "").split()
    return {dim: RATING_CODES[c] for dim, c in zip(ANSWERED, codes, strict=False) if c != "."}


OTHER_POLICY = {"C09", "O04"}  # tasks of the second policy, "report-other"

VISITS = [
    # name, dept, discharged, visit type, visit status
    ("D1", "cardio", "2026-10-31 23:30", "inpatient", "active"),
    ("D2", "cardio", "2026-10-01 00:10", "inpatient", "active"),
    ("D3", "cardio", "2026-11-01 00:10", "inpatient", "active"),
    ("D4", "cardio", "2026-09-30 23:50", "inpatient", "active"),
    ("D5", "cardio", "2026-10-12 11:00", "outpatient", "active"),
    ("D7", "ortho", "2026-10-20 10:00", "inpatient", "active"),
    ("D8", "ortho", "2026-10-20 10:00", "emergency", "active"),
]


@dataclass
class FixtureMonth:
    builder: ReportBuilder
    org: dict
    tasks: dict = field(default_factory=dict)  # name → FollowUpTask
    visits: dict = field(default_factory=dict)  # name → Visit (tasks' visits under the task name)
    today: dt.date = TODAY

    def ids(self, *names) -> set[int]:
        return {self.tasks[n].pk for n in names}

    def names(self, tasks) -> set[str]:
        by_pk = {t.pk: name for name, t in self.tasks.items()}
        return {by_pk.get(t.pk, f"?{t.pk}") for t in tasks}


def build_october(builder: ReportBuilder) -> FixtureMonth:
    month = FixtureMonth(builder=builder, org=builder.org)
    for name, dept, status, channel, window, done, exclusion, ratings, overall in TASKS:
        task = builder.task(
            dept, window=window, status=status, channel=channel, completed_at=done,
            exclusion=exclusion,
            policy="report-other" if name in OTHER_POLICY else "report-policy",
        )  # fmt: skip
        if ratings:
            channel = "sms_link" if overall is None else "phone"
            builder.response(task, channel=channel, **answers(ratings))
        if overall is not None:
            builder.record(task, overall=RATING_CODES.get(overall, ""))
        month.tasks[name] = task
        month.visits[name] = task.visit
    for name, dept, discharged, visit_type, status in VISITS:
        extra = {"visit_at": moment(discharged)} if visit_type != "inpatient" else {}
        month.visits[name] = builder.visit(
            dept, discharged=discharged, visit_type=visit_type, status=status, **extra
        )
    return month


@pytest.fixture
def october(reports):
    """The hand-built fixture month (see the table above)."""
    return build_october(reports)
