"""One step of the deadline-sweep benchmark, in a fresh process: `python -m bench.sweep_worker
ACTION JSON`. The environment (DATABASE_URL, CARELOOP_VAR_DIR) names the scratch database; the
last line printed on stdout is the result as JSON.

Actions:
- build: roles (``sync_role_groups``), departments, staff, one policy and stage, a few hundred
  patients and visits (ORM), then ``items`` open items with bulk_create — 70% cases (open
  statuses, one or two departments each), 20% disposal forms (each on its own follow-up task:
  the OneToOne), 10% clinical escalations — with their deadlines laid out around ``now`` so
  that a fraction ``acting`` of them newly needs a reminder or an escalation, plus the inbox rows
  and case events earlier sweeps and registrations would have left. Seeded.
- measure: the baseline read (best of ``repeat``), the sweep at ``now``, the sweep again at the
  same ``now`` (must do nothing); counts, SQL statements by kind, checks.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import resource
import sys
import time

SEED = 2026
H = dt.timedelta(hours=1)
DEPARTMENTS = 30
VISITS_PER_DEPARTMENT = 10
HANDLERS = 12  # service-centre agents: case handlers and the staff who raise escalations

# (amount, warn, second_after) in hours, as the preset rules give them (SPEC C3 / C1 / F11):
# a case 7 days, warned 48 h before, medical affairs 2 days after; a disposal step 3 working
# days (taken as 72 h here), 24 h, 2 days; an escalation 24 h, 4 h, 24 h.
SPECS = {"case": (168, 48, 48), "disposal": (72, 24, 48), "escalation": (24, 4, 24)}

# Where each open item stands at ``now``. Acting (the fraction ``acting`` of each model):
# remind — warn_at passed within the last hour, not reminded yet;
# esc1 — due_at passed within the last hour (reminded earlier), level 0 → 1;
# esc2 — second_due_at passed within the last hour, level 1 → 2.
# The rest, in these proportions: far — warn_at still ahead; reminded — within the warning
# window, reminded by an earlier sweep; level1 — overdue, supervisor told, second level still
# ahead (a tenth without a second level at all); level2 — at its last level.
ACTING_SPLIT = {"remind": 0.5, "esc1": 0.3, "esc2": 0.2}
IDLE_SPLIT = {"far": 0.45, "reminded": 0.15, "level1": 0.2, "level2": 0.2}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂兰玉珍建国志红霞文斌辉鹏飞宇浩然欣怡子涵梓萱"
WARDS = [
    "心血管内科", "呼吸内科", "消化内科", "神经内科", "内分泌科", "肾内科", "血液科", "风湿免疫科",
    "感染科", "老年医学科", "普通外科", "肝胆外科", "胃肠外科", "骨科", "神经外科", "心胸外科",
    "泌尿外科", "乳腺外科", "血管外科", "烧伤整形科", "妇科", "产科", "儿科", "新生儿科",
    "肿瘤科", "放疗科", "眼科", "耳鼻喉科", "口腔颌面外科", "康复医学科",
]  # fmt: skip
SUMMARIES = ["护士态度生硬", "候诊时间过长", "病房卫生差", "收费有疑问", "医生解释不清楚",
             "建议增加停车位", "出院手续繁琐", "夜间噪音大", "检查预约难", "感谢主治医生"]  # fmt: skip
CASE_STATUSES = ["registered", "accepted", "investigating", "handling"]
CASE_KINDS = ["complaint"] * 6 + ["opinion"] * 2 + ["suggestion"] * 2
SOURCES = ["hotline", "desk", "online", "followup", "letter"]
REASONS = ["post_op", "psychological", "worsening", "medication", "other"]
BATCH = 2000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _now(args: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(args["now"])


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


# --- build ----------------------------------------------------------------------------------


def _org(rng: random.Random) -> dict:
    """Departments; per department a head, a head nurse and two doctors; one service
    supervisor, one medical-affairs user, the service-centre agents. The supervisor, medical
    affairs and the department heads asked for SMS alerts (so escalations queue SMS too)."""
    from django.contrib.auth.models import Group

    from careloop.accounts.models import User
    from careloop.accounts.roles import Role, sync_role_groups
    from careloop.org.models import Department

    sync_role_groups()
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
    depts = Department.objects.bulk_create(
        [
            Department(code=f"BQ{i + 1:02d}", name=f"{WARDS[i % len(WARDS)]}{i // len(WARDS) or ''}病区",
                       kind="inpatient")
            for i in range(DEPARTMENTS)
        ]
    )  # fmt: skip
    service = Department.objects.create(code="ZN01", name="客服中心", kind="functional")
    medical = Department.objects.create(code="ZN02", name="医务科", kind="functional")
    users, homes, roles = [], [], []

    def person(role: str, dept, *, sms: bool = False) -> None:
        number = len(users) + 1
        users.append(
            User(
                username=f"u{number:04d}",
                staff_no=f"S{number:05d}",
                full_name=_name(rng),
                password="!",  # unusable: no hashing for a benchmark account
                sms_alerts=sms,
                phone=f"139{number:08d}" if sms else "",
            )
        )
        homes.append(dept)
        roles.append(role)

    person(Role.SUPERVISOR, service, sms=True)
    person(Role.MEDICAL_AFFAIRS, medical, sms=True)
    for _ in range(HANDLERS):
        person(Role.AGENT, service)
    for dept in depts:
        person(Role.DEPT_HEAD, dept, sms=True)
        person(Role.HEAD_NURSE, dept)
        person(Role.DOCTOR, dept)
        person(Role.DOCTOR, dept)
    users = User.objects.bulk_create(users)
    membership = User.departments.through
    membership.objects.bulk_create(
        [membership(user_id=u.pk, department_id=d.pk) for u, d in zip(users, homes, strict=True)]
    )
    in_group = User.groups.through
    in_group.objects.bulk_create(
        [in_group(user_id=u.pk, group_id=groups[r].pk) for u, r in zip(users, roles, strict=True)]
    )
    by_dept: dict[int, dict[str, list[int]]] = {d.pk: {"heads": [], "doctors": []} for d in depts}
    for u, d, r in zip(users, homes, roles, strict=True):
        if r in (Role.DEPT_HEAD, Role.HEAD_NURSE):
            by_dept[d.pk]["heads"].append(u.pk)
        elif r == Role.DOCTOR:
            by_dept[d.pk]["doctors"].append(u.pk)
    return {
        "departments": [d.pk for d in depts],
        "by_dept": by_dept,
        "supervisor": users[0].pk,
        "medical": users[1].pk,
        "handlers": [u.pk for u, r in zip(users, roles, strict=True) if r == Role.AGENT],
        "users": len(users),
    }


def _categories(count: int, acting: float, rng: random.Random) -> list[str]:
    """Exactly round(count × acting) acting items, split as ACTING_SPLIT; the rest as IDLE_SPLIT;
    shuffled."""
    act = round(count * acting)
    cats: list[str] = []
    for split, total in ((ACTING_SPLIT, act), (IDLE_SPLIT, count - act)):
        names = list(split)
        for name in names[:-1]:
            cats += [name] * round(total * split[name])
        cats += [names[-1]] * (total - sum(1 for c in cats if c in split))
    rng.shuffle(cats)
    return cats


def _clock(
    cat: str, spec: tuple[int, int, int], now: dt.datetime, rng: random.Random, unreminded: float
) -> dict:
    """due/warn/second/reminded/level of one item in category ``cat`` at ``now``. A fraction
    ``unreminded`` of the overdue idle items (level1, level2) reached their deadline without a
    reminder: their rule has warn_hours 0 (warn_at = due_at), or the job was down through the
    warning window."""
    amount, warn, second = (dt.timedelta(hours=h) for h in spec)
    u = rng.random
    minute = dt.timedelta(minutes=1)
    level, has_second = 0, True
    if cat == "far":
        due = now + warn + minute + (amount - warn - minute) * u()
    elif cat == "reminded":
        due = now + minute + (warn - H - minute) * u()  # warn_at at least an hour ago
    elif cat == "remind":
        due = now + warn - H * u()  # warn_at within the last hour
    elif cat == "esc1":
        due = now - H * u()
    elif cat == "level1":
        level = 1
        if rng.random() < 0.1:  # a rule without a second level (second_after 0)
            has_second = False
            due = now - H - dt.timedelta(days=30) * u()
        else:
            due = now - H - (second - 2 * H) * u()  # second level still more than an hour ahead
    elif cat == "esc2":
        level = 1
        due = now - H * u() - second
    elif cat == "level2":
        level = 2
        due = now - H - dt.timedelta(days=60) * u() - second
    else:
        raise ValueError(cat)
    warn_at = due - warn
    reminded = None if cat in ("far", "remind") else warn_at + min(H, now - warn_at) * u()
    missed = bool(unreminded) and cat in ("level1", "level2") and u() < unreminded
    if missed:
        warn_at, reminded = due, None
    return {
        "due_at": due,
        "warn_at": warn_at,
        "second_due_at": due + second if has_second else None,
        "reminded_at": reminded,
        "escalation_level": level,
        "start": due - amount,
        "unreminded": int(missed),
    }


def build(args: dict) -> dict:
    from django.db import connection, transaction

    from careloop.cases.models import Case, CaseEvent, DisposalForm, Escalation
    from careloop.followup.models import FollowUpTask, Policy, Stage
    from careloop.notify.models import Notification
    from careloop.patients.models import Patient, Visit

    n = int(args["items"])
    acting = float(args["acting"])
    unreminded = float(args.get("unreminded", 0))
    now = _now(args)
    start = time.perf_counter()
    rng = random.Random(SEED)
    n_cases = round(n * 0.7)
    n_forms = round(n * 0.2)
    n_escalations = n - n_cases - n_forms
    expected = {"remind": 0, "esc1": 0, "esc2": 0, "unreminded": 0}
    notes: list = []  # inbox rows earlier sweeps left
    note_stamp = now - dt.timedelta(days=90)

    def earlier(kind: str, pk: int, clock: dict, owners: list[int], first: list[int],
                heads_up: list[int]) -> None:  # fmt: skip
        """The notifications the sweeps before ``now`` wrote for this item (same keys)."""
        stamp = int(clock["due_at"].timestamp())
        steps = []
        if clock["reminded_at"] is not None:
            steps.append(("warn", owners, clock["reminded_at"]))
        if clock["escalation_level"] >= 1:
            steps.append(("esc1", first, clock["due_at"]))
        if clock["escalation_level"] >= 2:
            steps.append(("esc2", heads_up, clock["second_due_at"]))
        for step, users, at in steps:
            for user in users:
                notes.append(
                    Notification(
                        recipient_id=user, kind="deadline", title=f"{step} {kind} {pk}",
                        body="", url=f"/{kind}/{pk}/", key=f"{kind}:{pk}:{step}:{stamp}",
                        created_at=max(at, note_stamp), read_at=max(at, note_stamp) + H,
                    )
                )  # fmt: skip

    with transaction.atomic():
        org = _org(rng)
        depts, by_dept = org["departments"], org["by_dept"]
        supervisor, medical, handlers = org["supervisor"], org["medical"], org["handlers"]
        policy = Policy.objects.create(
            slug="bench-sweep", name="基准：出院电话回访", is_active=True
        )
        stage = Stage.objects.create(
            policy=policy, code="phone", name="出院电话回访", visit_types=["inpatient"],
            anchor="discharge", window_start_day=7, channel="phone", assignee_role="agent_pool",
        )  # fmt: skip
        n_visits = DEPARTMENTS * VISITS_PER_DEPARTMENT
        patients = Patient.objects.bulk_create(
            [
                Patient(patient_no=f"B{k + 1:06d}", name=_name(rng), sex=rng.choice("12"))
                for k in range(n_visits)
            ]
        )
        discharged = now - dt.timedelta(days=20)
        visits = Visit.objects.bulk_create(
            [
                Visit(
                    patient=p,
                    visit_type="inpatient",
                    visit_no=f"ZY{k + 1:08d}",
                    department_id=depts[k % DEPARTMENTS],
                    attending_doctor_id=by_dept[depts[k % DEPARTMENTS]]["doctors"][k % 2],
                    admitted_at=discharged - dt.timedelta(days=5),
                    discharged_at=discharged,
                    status="active",
                    source="import",
                )
                for k, p in enumerate(patients)
            ]
        )

        # Cases.
        cats = _categories(n_cases, acting, rng)
        cases, clocks = [], []
        for i, cat in enumerate(cats):
            clock = _clock(cat, SPECS["case"], now, rng, unreminded)
            clocks.append(clock)
            summary = rng.choice(SUMMARIES)
            cases.append(
                Case(
                    number=f"TS{now:%Y}{i + 1:07d}", kind=rng.choice(CASE_KINDS),
                    source=rng.choice(SOURCES), status=rng.choice(CASE_STATUSES),
                    severity="general", summary=summary, description=f"患者反映：{summary}。",
                    registered_by_id=rng.choice(handlers), registered_at=clock["start"],
                    handler_id=rng.choice(handlers) if rng.random() < 0.6 else None,
                    due_at=clock["due_at"], warn_at=clock["warn_at"],
                    second_due_at=clock["second_due_at"], reminded_at=clock["reminded_at"],
                    escalation_level=clock["escalation_level"], updated_at=clock["start"],
                )
            )  # fmt: skip
        cases = Case.objects.bulk_create(cases, batch_size=BATCH)
        involved = Case.departments.through
        rows, events = [], []
        for case, clock, cat in zip(cases, clocks, cats, strict=True):
            expected[cat] = expected.get(cat, 0) + 1
            expected["unreminded"] += clock["unreminded"]
            picks = rng.sample(depts, 2 if rng.random() < 0.2 else 1)
            rows += [involved(case_id=case.pk, department_id=d) for d in picks]
            events.append(
                CaseEvent(case_id=case.pk, kind="created", by_id=case.registered_by_id,
                          at=clock["start"], to_status="registered")
            )  # fmt: skip
            owners = [case.handler_id] if case.handler_id else [supervisor]
            earlier("case", case.pk, clock, owners, [supervisor], [medical])
        involved.objects.bulk_create(rows, batch_size=BATCH * 5)
        CaseEvent.objects.bulk_create(events, batch_size=BATCH)
        del rows, events

        # Disposal forms, each on its own completed follow-up task (the OneToOne).
        cats = _categories(n_forms, acting, rng)
        tasks = FollowUpTask.objects.bulk_create(
            [
                FollowUpTask(
                    policy=policy, stage=stage, visit=visits[i % n_visits],
                    patient_id=visits[i % n_visits].patient_id,
                    department_id=visits[i % n_visits].department_id,
                    sequence=i // n_visits + 1, channel="phone", assignee_role="agent_pool",
                    anchor_at=discharged, window_start=(discharged + dt.timedelta(days=7)).date(),
                    window_end=(discharged + dt.timedelta(days=13)).date(), status="completed",
                    completed_at=discharged + dt.timedelta(days=8),
                )
                for i in range(n_forms)
            ],
            batch_size=BATCH,
        )  # fmt: skip
        forms, clocks = [], []
        for task, cat in zip(tasks, cats, strict=True):
            clock = _clock(cat, SPECS["disposal"], now, rng, unreminded)
            clocks.append(clock)
            forms.append(
                DisposalForm(
                    task=task, visit_id=task.visit_id, patient_id=task.patient_id,
                    department_id=task.department_id, followed_up_at=clock["start"],
                    followed_up_by_id=rng.choice(handlers), poor_items=["attitude"],
                    problem="服务态度差：护士态度生硬",
                    status="department" if rng.random() < 0.7 else "medical_affairs",
                    created_at=clock["start"], due_at=clock["due_at"], warn_at=clock["warn_at"],
                    second_due_at=clock["second_due_at"], reminded_at=clock["reminded_at"],
                    escalation_level=clock["escalation_level"],
                )
            )  # fmt: skip
        forms = DisposalForm.objects.bulk_create(forms, batch_size=BATCH)
        for form, clock, cat in zip(forms, clocks, cats, strict=True):
            expected[cat] = expected.get(cat, 0) + 1
            expected["unreminded"] += clock["unreminded"]
            heads = by_dept[form.department_id]["heads"]
            owners = heads if form.status == "department" else [medical]
            earlier("disposal", form.pk, clock, owners, [supervisor], [medical])
        del tasks, forms

        # Clinical escalations.
        cats = _categories(n_escalations, acting, rng)
        escalations, clocks = [], []
        for cat in cats:
            clock = _clock(cat, SPECS["escalation"], now, rng, unreminded)
            clocks.append(clock)
            visit = rng.choice(visits)
            escalations.append(
                Escalation(
                    visit_id=visit.pk, patient_id=visit.patient_id,
                    department_id=visit.department_id, raised_by_id=rng.choice(handlers),
                    raised_at=clock["start"],
                    doctor_id=visit.attending_doctor_id if rng.random() < 0.7 else None,
                    reason=rng.choice(REASONS), description="患者反映术后伤口疼痛加重",
                    due_at=clock["due_at"], status="open", warn_at=clock["warn_at"],
                    second_due_at=clock["second_due_at"], reminded_at=clock["reminded_at"],
                    escalation_level=clock["escalation_level"],
                )
            )  # fmt: skip
        escalations = Escalation.objects.bulk_create(escalations, batch_size=BATCH)
        for esc, clock, cat in zip(escalations, clocks, cats, strict=True):
            expected[cat] = expected.get(cat, 0) + 1
            expected["unreminded"] += clock["unreminded"]
            heads = by_dept[esc.department_id]["heads"]
            owners = [esc.doctor_id] if esc.doctor_id else heads
            earlier("escalation", esc.pk, clock, owners, heads, [medical])
        del escalations
        Notification.objects.bulk_create(notes, batch_size=BATCH)
        inbox = len(notes)
        notes.clear()

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load
            for model in (Case, Case.departments.through, CaseEvent, DisposalForm, Escalation,
                          FollowUpTask, Notification):  # fmt: skip
                cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.close()
    return {
        "seconds": time.perf_counter() - start,
        "cases": n_cases,
        "forms": n_forms,
        "escalations": n_escalations,
        "visits": n_visits,
        "users": org["users"],
        "departments": DEPARTMENTS,
        "inbox": inbox,
        "expected": expected,
        "peak_mb": _peak_mb(),
    }


# --- measurements ---------------------------------------------------------------------------


def _pending(now):
    """The sweep's own read (services.sweep.open_querysets): only the items that have
    something to do."""
    from careloop.cases.services.sweep import open_querysets

    return open_querysets(now)


def _baseline(now) -> tuple[float, dict[str, list[int]]]:
    start = time.perf_counter()
    found = {name: list(qs.values_list("pk")) for name, qs in _pending(now).items()}
    seconds = time.perf_counter() - start
    return seconds, {name: sorted(pk for (pk,) in rows) for name, rows in found.items()}


def _plans(now) -> dict[str, str]:
    """The database's plan for each baseline query, squeezed onto one line."""
    out = {}
    for name, qs in _pending(now).items():
        text = qs.values_list("pk").explain()
        lines = [re.sub(r"\s+", " ", line).strip(" ->") for line in text.splitlines()]
        lines = [re.sub(r"^\d+ \d+ \d+ ", "", line) for line in lines]  # SQLite's id columns
        out[name] = " / ".join(line for line in lines if line)
    return out


def _counts() -> dict:
    from django.db.models import Sum

    from careloop.cases.models import Case, CaseEvent, DisposalForm, Escalation
    from careloop.notify.models import Notification, OutboxMessage

    levels = 0
    for model in (Case, DisposalForm, Escalation):
        levels += model.objects.aggregate(s=Sum("escalation_level"))["s"] or 0
    return {
        "notifications": Notification.objects.count(),
        "case_events": CaseEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "levels": levels,
    }


SQL_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


def _sql_kind(sql: str) -> str:
    text = sql.lstrip()
    verb = text.split(None, 1)[0].upper() if text else "?"
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "SAVEPOINT/RELEASE"
    match = SQL_TABLE.search(text)
    table = match.group(1) if match else ""
    if table == "accounts_user" and "auth_group" in text:
        return "SELECT accounts_user by role (people())"
    return f"{verb} {table}".strip()


class _Recorder:
    """Every statement the connection sends, with its time (execute_wrapper)."""

    def __init__(self):
        self.calls: list[tuple[str, float]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.calls.append((sql, time.perf_counter() - start))

    def summary(self) -> dict:
        kinds: dict[str, list] = {}
        for sql, seconds in self.calls:
            entry = kinds.setdefault(_sql_kind(sql), [0, 0.0])
            entry[0] += 1
            entry[1] += seconds
        return {
            "statements": len(self.calls),
            "seconds": sum(s for _, s in self.calls),
            "by_kind": sorted(([k, c, s] for k, (c, s) in kinds.items()), key=lambda r: -r[2]),
        }


class _Commits:
    """Transactions committed while the sweep runs (autocommit statements are not counted: the
    database commits those itself)."""

    def __init__(self, connection):
        self.connection, self.n = connection, 0
        self._orig = connection.commit

    def __enter__(self):
        def commit():
            self.n += 1
            return self._orig()

        self.connection.commit = commit
        return self

    def __exit__(self, *exc):
        del self.connection.commit


def _sweep(now, profile: str | None = None) -> dict:
    from django.db import connection

    from careloop.cases.services import sweep_deadlines

    recorder = _Recorder()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    with connection.execute_wrapper(recorder), _Commits(connection) as commits:
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        result = sweep_deadlines(now)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
    if profiler:
        profiler.dump_stats(profile)
    return {"seconds": seconds, "result": result, "sql": recorder.summary(),
            "commits": commits.n}  # fmt: skip


def measure(args: dict) -> dict:
    from django.db import connection

    # Everything the sweep imports lazily, imported before the clock starts.
    import careloop.calendars.services
    import careloop.cases.services
    import careloop.notify.inbox
    import careloop.notify.services  # noqa: F401
    from careloop.cases.models import Case, DisposalForm, Escalation

    now = _now(args)
    expected = args["expected"]
    problems: list[str] = []
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")

    times = []
    for _ in range(int(args.get("repeat", 3))):
        seconds, pending = _baseline(now)
        times.append(seconds)
    read = {name: len(pks) for name, pks in pending.items()}
    acting = expected["remind"] + expected["esc1"] + expected["esc2"]
    # Overdue items that were never reminded have nothing left to do at their level: the read
    # must not keep matching them (it did before the fix; BENCH_SWEEP_UNREMINDED checks it).
    if sum(read.values()) != acting:
        problems.append(
            f"baseline read {read}, expected {acting} items with something to do"
            f" (and none of the {expected['unreminded']} overdue items never reminded)"
        )
    try:  # the same rows as the sweep's own read?
        from careloop.cases.services.sweep import _open_items

        theirs: dict[str, list[int]] = {name: [] for name in pending}
        for obj in _open_items(now):
            theirs.setdefault(type(obj).__name__, []).append(obj.pk)
        if {k: sorted(v) for k, v in theirs.items()} != pending:
            problems.append("the baseline query does not read the same rows as sweep._open_items")
    except ImportError:
        problems.append("services.sweep._open_items not found: baseline not checked against it")
    plans = _plans(now) if args.get("explain") else {}

    before = _counts()
    sweep = _sweep(now, args.get("profile"))
    after = _counts()
    got = sweep["result"]
    if got.get("reminded") != expected["remind"]:
        problems.append(f"sweep reminded {got.get('reminded')}, expected {expected['remind']}")
    if got.get("escalated") != expected["esc1"] + expected["esc2"]:
        problems.append(f"sweep escalated {got.get('escalated')}, "
                        f"expected {expected['esc1'] + expected['esc2']}")  # fmt: skip
    if after["levels"] - before["levels"] != expected["esc1"] + expected["esc2"]:
        problems.append(f"escalation levels rose by {after['levels'] - before['levels']}")
    reminded_now = sum(
        m.objects.filter(reminded_at=now).count() for m in (Case, DisposalForm, Escalation)
    )
    if reminded_now != expected["remind"]:
        problems.append(f"{reminded_now} items carry reminded_at = now")

    noop = _sweep(now)
    again = _counts()
    if any(noop["result"].get(k) for k in ("reminded", "escalated")):
        problems.append(f"the second sweep acted: {noop['result']}")
    if again != after:
        problems.append(f"the second sweep wrote rows: {after} → {again}")
    _, left = _baseline(now)
    still = sum(len(v) for v in left.values())
    if still:
        problems.append(f"{still} items still match the read after the sweep")
    connection.close()
    return {
        "baseline": min(times),
        "baseline_all": times,
        "read": read,
        "plans": plans,
        "sweep": sweep,
        "noop": noop,
        "still_pending": still,
        "written": {k: after[k] - before[k] for k in ("notifications", "case_events", "outbox")},
        "problems": problems,
        "peak_mb": _peak_mb(),
    }


ACTIONS = {"build": build, "measure": measure}


def main() -> None:
    import django

    action, args = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    django.setup()
    result = ACTIONS[action](args)
    sys.stdout.flush()
    print("\n" + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
