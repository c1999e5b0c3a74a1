"""One step of the planner benchmark, in a fresh process: `python -m bench.plan_worker ACTION
JSON`. The environment (DATABASE_URL, CARELOOP_VAR_DIR) names the scratch database; the last
line printed on stdout is the result as JSON.

Actions:
- build: departments, staff (ORM, a few hundred rows), then patients, phones, visits and
  diagnoses written raw (COPY FROM STDIN on PostgreSQL, executemany on SQLite), seeded, without
  the ORM and without ``patients_visitchange`` rows: the first plan after activating a policy is
  a full pass anyway;
- first: activate kf-phone and discharge-nurse, time ``plan(as_of)`` (optionally under
  cProfile);
- replan: time ``plan(as_of)`` again (incremental) or ``plan(as_of, full=True)``;
- raw: dump the task rows the planner wrote, empty the table, time loading the same rows (COPY /
  executemany in one transaction), best of N.

Every step that follows a plan reports a checksum of the task table (every column) and the
task-event count, so the orchestrator can insist that a no-change re-plan wrote nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import resource
import sys
import time
from array import array
from decimal import Decimal

SEED = 2026
UTC = dt.UTC
CN_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai: no daylight saving
MINUTES_PER_YEAR = 365 * 24 * 60
CHUNK = 50_000

WARDS = [
    "心血管内科", "呼吸内科", "消化内科", "神经内科", "内分泌科", "肾内科", "血液科", "风湿免疫科",
    "感染科", "老年医学科", "普通外科", "肝胆外科", "胃肠外科", "骨科", "神经外科", "心胸外科",
    "泌尿外科", "乳腺外科", "血管外科", "烧伤整形科", "妇科", "产科", "儿科", "新生儿科",
    "肿瘤科", "放疗科", "眼科", "耳鼻喉科", "口腔颌面外科", "康复医学科",
]  # fmt: skip
SPECIALIST = [
    "心内科", "呼吸科", "消化科", "神经科", "内分泌科", "肾病科", "血液科", "风湿科", "肿瘤科",
    "骨科", "泌尿科", "神经外科", "妇科", "儿科", "眼科",
]  # fmt: skip
BASIC = ["全科", "普通内科", "普通外科", "皮肤科", "口腔科", "耳鼻喉科", "中医科", "康复科"]
EMERGENCY = ["急诊内科", "急诊外科"]
FUNCTIONAL = ["客服中心", "医务科", "护理部"]
NURSES_PER_WARD, DOCTORS_PER_WARD = 4, 2

DIAGNOSES = [
    ("I10", "原发性高血压"), ("E11.9", "2型糖尿病"), ("I25.1", "动脉粥样硬化性心脏病"),
    ("J18.9", "肺炎"), ("J44.1", "慢性阻塞性肺病伴急性加重"), ("K29.7", "胃炎"),
    ("K80.2", "胆囊结石不伴胆囊炎"), ("K35.8", "急性阑尾炎"), ("I63.9", "脑梗死"),
    ("I48", "心房颤动"), ("N20.0", "肾结石"), ("M51.2", "腰椎间盘突出"),
    ("S72.0", "股骨颈骨折"), ("O80", "单胎顺产"), ("J06.9", "急性上呼吸道感染"),
    ("L20.9", "特应性皮炎"), ("H25.9", "老年性白内障"), ("C34.9", "支气管或肺恶性肿瘤"),
    ("E78.5", "高脂血症"), ("N39.0", "泌尿道感染"), ("K21.0", "胃食管反流病伴食管炎"),
    ("I50.9", "心力衰竭"), ("J45.9", "哮喘"), ("R51", "头痛"), ("Z51.1", "肿瘤化学治疗疗程"),
]  # fmt: skip
SENSITIVE = [
    ("A51.0", "原发性生殖器梅毒"), ("A54.9", "淋球菌感染"), ("A56.0", "衣原体感染"),
    ("A60.0", "肛门生殖器疱疹病毒感染"), ("B20.0", "HIV 病导致的分枝杆菌感染"),
    ("B24", "HIV 病"), ("O04.9", "医疗性流产"),
]  # fmt: skip
DISPOSITIONS = ["1", "2", "3", "4", "5", "9"]
DISPOSITION_WEIGHTS = [85, 4, 3, 5, 1, 2]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂兰玉珍建国志红霞文斌辉鹏飞宇浩然欣怡子涵梓萱"

# The task table's checksum covers every column: a no-change re-plan must not touch a row.
TASK_TABLE = "followup_followuptask"
EVENT_TABLE = "followup_taskevent"


def _peak_mb() -> float:
    """Peak RSS of this process (ru_maxrss, KiB on Linux); the orchestrator stays small, because
    Linux hands a parent's peak down to the ru_maxrss of its children."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _as_of(args: dict) -> dt.date:
    return dt.date.fromisoformat(args["as_of"])


# --- build ----------------------------------------------------------------------------------


def _org(rng: random.Random) -> dict:
    """Departments, staff and their department memberships (ORM: a few hundred rows)."""
    from django.contrib.auth.models import Group

    from careloop.accounts.models import User
    from careloop.accounts.roles import Role
    from careloop.org.models import Department

    kinds = (
        [(f"BQ{i + 1:02d}", f"{n}病区", "inpatient") for i, n in enumerate(WARDS)]
        + [(f"ZK{i + 1:02d}", f"{n}门诊", "specialist") for i, n in enumerate(SPECIALIST)]
        + [(f"JC{i + 1:02d}", f"{n}门诊", "basic") for i, n in enumerate(BASIC)]
        + [(f"JZ{i + 1:02d}", n, "emergency") for i, n in enumerate(EMERGENCY)]
        + [(f"ZN{i + 1:02d}", n, "functional") for i, n in enumerate(FUNCTIONAL)]
    )
    depts = Department.objects.bulk_create(
        [Department(code=c, name=n, kind=k) for c, n, k in kinds]
    )
    by_kind: dict[str, list] = {}
    for d in depts:
        by_kind.setdefault(d.kind, []).append(d)

    users, homes, roles = [], [], []

    def person(prefix: str, dept, role: str, suffix: str) -> None:
        number = len(users) + 1
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        users.append(
            User(
                username=f"{prefix}{number:04d}",
                staff_no=f"S{number:05d}",
                full_name=name,
                password="!",  # unusable: no hashing for a benchmark account
            )
        )
        homes.append(dept)
        roles.append((role, f"{name}{suffix}"))

    for ward in by_kind["inpatient"]:
        for _ in range(NURSES_PER_WARD):
            person("n", ward, Role.NURSE, "护士")
        for _ in range(DOCTORS_PER_WARD):
            person("d", ward, Role.DOCTOR, "医生")
    for clinic in by_kind["specialist"] + by_kind["basic"] + by_kind["emergency"]:
        person("d", clinic, Role.DOCTOR, "医生")
    users = User.objects.bulk_create(users)
    membership = User.departments.through
    membership.objects.bulk_create(
        [membership(user_id=u.pk, department_id=d.pk) for u, d in zip(users, homes, strict=True)]
    )
    groups = {r: Group.objects.get_or_create(name=r)[0] for r in (Role.NURSE, Role.DOCTOR)}
    in_group = User.groups.through
    in_group.objects.bulk_create(
        [
            in_group(user_id=u.pk, group_id=groups[role].pk)
            for u, (role, _n) in zip(users, roles, strict=True)
        ]
    )
    staff: dict[int, dict[str, list[tuple[int, str]]]] = {}
    for u, d, (role, label) in zip(users, homes, roles, strict=True):
        staff.setdefault(d.pk, {"nurse": [], "doctor": []})[role.value].append((u.pk, label))
    return {
        "wards": [d.pk for d in by_kind["inpatient"]],
        "specialist": [d.pk for d in by_kind["specialist"]],
        "basic": [d.pk for d in by_kind["basic"]],
        "emergency": [d.pk for d in by_kind["emergency"]],
        "staff": staff,
        "departments": len(depts),
        "users": len(users),
    }


class _Writer:
    """Raw loading: COPY FROM STDIN on PostgreSQL, executemany on a plain sqlite3 connection
    (no foreign-key checks, no fsync while building: this is set-up, not a measurement)."""

    def __init__(self):
        from django.db import connection

        self.vendor = connection.vendor
        self.rows: dict[str, int] = {}
        if self.vendor == "sqlite":
            import sqlite3

            sqlite3.register_adapter(dt.datetime, _sqlite_datetime)
            sqlite3.register_adapter(dt.date, dt.date.isoformat)
            sqlite3.register_adapter(Decimal, str)
            self.conn = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys=OFF")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("BEGIN")
        else:
            connection.set_autocommit(False)  # one transaction until commit()
            self.conn = connection.connection

    def columns(self, table: str, model, names: list[str]) -> None:
        """Every column of the table must be written: a raw INSERT knows no Django defaults."""
        have = {f.column for f in model._meta.concrete_fields}
        if set(names) != have:
            raise SystemExit(
                f"{table}: the generator writes {sorted(names)} but the table has {sorted(have)}"
            )

    def load(self, model, names: list[str], rows) -> None:
        table = model._meta.db_table
        self.columns(table, model, names)
        cols = ", ".join(f'"{n}"' for n in names)
        count = 0
        if self.vendor == "postgresql":
            with (
                self.conn.cursor() as cursor,
                cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:

            def counted():
                nonlocal count
                for row in rows:
                    count += 1
                    yield row

            marks = ", ".join("?" * len(names))
            self.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", counted())
        self.rows[table] = count

    def commit(self, models) -> None:
        if self.vendor == "postgresql":
            with self.conn.cursor() as cursor:
                for model in models:  # explicit ids: move the identity sequences past them
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    )
            from django.db import connection

            connection.commit()
            connection.set_autocommit(True)
            with connection.cursor() as cursor:
                # What autovacuum does to a table soon after a bulk load: statistics and the
                # visibility map, so the first plan does not pay for setting hint bits.
                for model in models:
                    cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        else:
            self.conn.execute("COMMIT")
            self.conn.close()


def _sqlite_datetime(value: dt.datetime) -> str:
    """Django's SQLite format: naive UTC, space-separated."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def build(args: dict) -> dict:
    """Seeded data for ``visits`` visits ending the day before ``as_of``."""
    from django.db import connection

    from careloop.followup.presets import ensure_presets
    from careloop.patients.models import Diagnosis, Patient, PatientPhone, Visit

    n = int(args["visits"])
    as_of = _as_of(args)
    start = time.perf_counter()
    ensure_presets()
    org = _org(random.Random(SEED))
    wards, specialist, basic, emergency = (
        org["wards"], org["specialist"], org["basic"], org["emergency"]
    )  # fmt: skip
    staff = org["staff"]

    # Local midnight of as_of, in UTC: the data ends there ("now" for the hospital).
    end = dt.datetime.combine(as_of, dt.time(), tzinfo=UTC) - CN_OFFSET
    stamp = end - dt.timedelta(hours=2)  # created_at / updated_at of every loaded row

    # Pass 1: per visit its patient, type, times and disposition (compact arrays), so that the
    # patients (deceased flag and date) can be written before their visits.
    rng = random.Random(SEED + 1)
    n_patients = max(1, round(n * 0.7))
    order = array("i", range(n_patients))
    order.extend(rng.randrange(n_patients) for _ in range(n - n_patients))
    rng.shuffle(order)
    vtype = bytearray(n)  # b"I" inpatient, b"O" outpatient, b"E" emergency
    begin = array("i", bytes(4 * n))  # minutes before `end`
    stay = array("i", bytes(4 * n))  # minutes in hospital; -1 still admitted
    disposition = bytearray(n)
    died: dict[int, dt.datetime] = {}
    for i in range(n):
        r = rng.random()
        minutes = rng.randint(1, MINUTES_PER_YEAR)
        begin[i] = minutes
        if r < 0.45:
            vtype[i] = 73  # I
            if rng.random() < 0.03:
                length = rng.randint(2 * 60, 23 * 60)  # E3: under 24 hours
            else:
                days = min(60, max(1, round(rng.lognormvariate(1.6, 0.6))))
                length = days * 1440 + rng.randint(-600, 600)
            if length >= minutes:  # discharge would be after `end`: still in hospital
                stay[i], disposition[i] = -1, 0
            else:
                stay[i] = length
                code = rng.choices(DISPOSITIONS, DISPOSITION_WEIGHTS)[0]
                disposition[i] = ord(code)
                if code == "5":
                    died[order[i]] = end - dt.timedelta(minutes=minutes - length)
        else:
            vtype[i] = 79 if r < 0.95 else 69  # O / E
            stay[i] = -1

    writer = _Writer()
    # A small pool of real ciphertexts and blind indexes, reused (the planner only asks whether
    # a phone row exists; one phone per patient keeps (patient, number_bidx) unique).
    number_field = PatientPhone._meta.get_field("number")
    bidx_field = PatientPhone._meta.get_field("number_bidx")
    address_field = Patient._meta.get_field("address")
    pool_rng = random.Random(SEED + 2)
    phones = [
        f"1{pool_rng.choice('3578')}{pool_rng.randint(0, 999_999_999):09d}" for _ in range(500)
    ]
    phone_pool = [(number_field.get_prep_value(p), bidx_field.hash(p)) for p in phones]
    address_pool = [
        address_field.get_prep_value(f"北京市朝阳区建设路{k + 1}号") for k in range(200)
    ]

    # Patients.
    rng = random.Random(SEED + 3)
    patient_cols = [
        "id", "patient_no", "name", "sex", "birth_date", "birth_date_estimated", "id_number",
        "id_number_bidx", "address", "is_deceased", "deceased_at", "do_not_contact",
        "open_dispute", "privacy_sensitive", "merged_into_id", "created_at", "updated_at",
    ]  # fmt: skip
    has_phone = bytearray(n_patients)
    flags = {"dispute": 0, "refused": 0, "deceased": len(died), "no_phone": 0}

    def patients():
        base_birth = dt.date(1930, 1, 1)
        for k in range(n_patients):
            dispute = rng.random() < 0.01
            refused = rng.random() < 0.01
            flags["dispute"] += dispute
            flags["refused"] += refused
            has_phone[k] = rng.random() < 0.97
            death = died.get(k)
            yield (
                k + 1, f"{900_000_000 + k}",
                rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                rng.choice("12"), base_birth + dt.timedelta(days=rng.randint(0, 34000)), False,
                "", "", rng.choice(address_pool), death is not None, death, refused, dispute,
                False, None, stamp, stamp,
            )  # fmt: skip

    writer.load(Patient, patient_cols, patients())

    phone_cols = ["id", "patient_id", "number", "number_bidx", "owner", "is_preferred", "position"]

    def phone_rows():
        pid = 0
        for k in range(n_patients):
            if has_phone[k]:
                pid += 1
                number, bidx = phone_pool[k % len(phone_pool)]
                yield (pid, k + 1, number, bidx, "self", True, 0)
            else:
                flags["no_phone"] += 1

    writer.load(PatientPhone, phone_cols, phone_rows())

    # Visits and diagnoses.
    rng = random.Random(SEED + 4)
    visit_cols = [
        "id", "patient_id", "visit_type", "visit_no", "department_id", "attending_doctor_id",
        "attending_doctor_name", "responsible_nurse_id", "responsible_nurse_name", "admitted_at",
        "discharged_at", "visit_at", "disposition", "cleared_out", "total_cost", "first_visit",
        "lost", "special", "chronic", "guidance_medication", "guidance_diet", "guidance_rehab",
        "revisit_date", "status", "source", "created_at", "updated_at",
    ]  # fmt: skip
    diag_cols = ["id", "visit_id", "position", "code", "text", "is_principal"]
    diagnoses: list[tuple] = []
    counts = {"inpatient": 0, "discharged": 0, "outpatient": 0, "first_visit": 0, "emergency": 0,
              "sensitive": 0, "cleared_out": 0, "special": 0, "under_24h": 0}  # fmt: skip
    next_diag = 0

    def visit_rows():
        nonlocal next_diag
        for i in range(n):
            kind = vtype[i]
            when = end - dt.timedelta(minutes=begin[i])
            chronic = rng.random() < 0.15
            admitted = discharged = visit_at = None
            nurse_id, nurse_name = None, ""
            cleared = special = first = lost = False
            disp = ""
            if kind == 73:
                counts["inpatient"] += 1
                dept = rng.choice(wards)
                nurse_id, nurse_name = rng.choice(staff[dept]["nurse"])
                doctor_id, doctor_name = rng.choice(staff[dept]["doctor"])
                admitted = when
                if stay[i] >= 0:
                    counts["discharged"] += 1
                    discharged = when + dt.timedelta(minutes=stay[i])
                    disp = chr(disposition[i])
                    cleared = rng.random() < 0.02
                    counts["cleared_out"] += cleared
                    counts["under_24h"] += stay[i] < 1440
                special = rng.random() < 0.03
                counts["special"] += special
                cost = Decimal(rng.randint(300_000, 8_000_000)) / 100
                visit_no = f"ZY{i + 1:08d}"
                vt = "inpatient"
            else:
                visit_at = when
                cost = Decimal(rng.randint(2_000, 300_000)) / 100
                if kind == 79:
                    counts["outpatient"] += 1
                    dept = rng.choice(specialist if rng.random() < 0.6 else basic)
                    first = rng.random() < 0.40
                    lost = rng.random() < 0.05
                    counts["first_visit"] += first and not lost
                    visit_no, vt = f"MZ{i + 1:08d}", "outpatient"
                else:
                    counts["emergency"] += 1
                    dept = rng.choice(emergency)
                    visit_no, vt = f"JZ{i + 1:08d}", "emergency"
                doctor_id, doctor_name = staff[dept]["doctor"][0]
            visit_id = i + 1
            picks = rng.sample(DIAGNOSES, rng.choices((1, 2, 3), (60, 30, 10))[0])
            if rng.random() < 0.005:
                picks[rng.randrange(len(picks))] = rng.choice(SENSITIVE)
                counts["sensitive"] += 1
            for position, (code, text) in enumerate(picks):
                next_diag += 1
                diagnoses.append((next_diag, visit_id, position, code, text, position == 0))
            yield (
                visit_id, order[i] + 1, vt, visit_no, dept, doctor_id, doctor_name, nurse_id,
                nurse_name, admitted, discharged, visit_at, disp, cleared, cost, first, lost,
                special, chronic, "", "", "", None, "active", "import", stamp, stamp,
            )  # fmt: skip

    def chunked_visits():
        # Visits in chunks, the chunk's diagnoses loaded after it: memory stays flat.
        rows = visit_rows()
        while True:
            chunk = [row for _, row in zip(range(CHUNK), rows, strict=False)]
            if not chunk:
                return
            yield chunk

    visit_count = diag_count = 0
    for chunk in chunked_visits():
        writer.load(Visit, visit_cols, chunk)
        visit_count += writer.rows[Visit._meta.db_table]
        writer.load(Diagnosis, diag_cols, diagnoses)
        diag_count += writer.rows[Diagnosis._meta.db_table]
        diagnoses.clear()
    writer.rows[Visit._meta.db_table] = visit_count
    writer.rows[Diagnosis._meta.db_table] = diag_count
    writer.commit([Patient, PatientPhone, Visit, Diagnosis])
    connection.close()
    return {
        "seconds": time.perf_counter() - start,
        "rows": writer.rows,
        "patients": n_patients,
        "flags": flags,
        "visits": counts,
        "departments": org["departments"],
        "users": org["users"],
        "peak_mb": _peak_mb(),
    }


# --- measurements ---------------------------------------------------------------------------


def _task_columns() -> list[str]:
    from careloop.followup.models import FollowUpTask

    return [f.column for f in FollowUpTask._meta.concrete_fields]


def _state() -> dict:
    """Row count and a checksum over every column of every task (ordered by id), task events."""
    from django.db import connection

    cols = ", ".join(f'"{c}"' for c in _task_columns())
    digest = hashlib.sha256()
    count = 0
    by_status: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {TASK_TABLE} ORDER BY id")
        status_at = _task_columns().index("status")
        exclusion_at = _task_columns().index("exclusion")
        while rows := cursor.fetchmany(20_000):
            for row in rows:
                digest.update(repr(row).encode())
                key = row[status_at] + (f":{row[exclusion_at]}" if row[exclusion_at] else "")
                by_status[key] = by_status.get(key, 0) + 1
            count += len(rows)
        cursor.execute(f"SELECT COUNT(*) FROM {EVENT_TABLE}")
        events = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM patients_visitchange")
        changes = cursor.fetchone()[0]
    return {
        "tasks": count,
        "checksum": digest.hexdigest()[:16],
        "events": events,
        "visit_changes": changes,
        "by_status": dict(sorted(by_status.items())),
    }


def _counted_queries():
    """Count the SQL statements a step sends (execute and executemany, not their rows)."""
    from django.db import connection

    calls = {"n": 0}

    def wrapper(execute, sql, params, many, context):
        calls["n"] += 1
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper), calls


def _plan(args: dict, *, full: bool, activate: bool) -> dict:
    from careloop.followup.models import Policy
    from careloop.followup.planner import plan

    as_of = _as_of(args)
    if activate:
        from careloop.followup.presets import ensure_presets
        from careloop.followup.services import activate_policy

        ensure_presets()
        for slug in args["policies"]:
            activate_policy(Policy.objects.get(slug=slug))
    active = sorted(Policy.objects.filter(is_active=True).values_list("slug", flat=True))
    base = _peak_mb()
    profiler = None
    if args.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    wrapper, calls = _counted_queries()
    with wrapper:
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        result = plan(as_of=as_of, full=full)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
    if profiler:
        profiler.dump_stats(args["profile"])
    return {
        "seconds": seconds,
        "queries": calls["n"],
        "result": result,
        "active": active,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "hwm_mb": _hwm_mb(),
        "state": _state(),
    }


def first(args: dict) -> dict:
    return _plan(args, full=False, activate=True)


def replan(args: dict) -> dict:
    before = _state()
    out = _plan(args, full=bool(args.get("full")), activate=False)
    out["before"] = before
    return out


def state(args: dict) -> dict:
    return _state()


def raw(args: dict) -> dict:
    """The task rows the plan wrote (every column but id), the table emptied, the same rows loaded
    in one transaction: COPY FROM STDIN (PostgreSQL) or executemany (SQLite) — best of N. The
    task events (if the planner writes any) are set aside and put back afterwards."""
    from django.db import connection, transaction

    vendor = connection.vendor
    before = _state()
    cols = [c for c in _task_columns() if c != "id"]
    quoted = ", ".join(f'"{c}"' for c in cols)
    if vendor == "sqlite":
        import sqlite3

        # A plain connection: the values exactly as stored, without Django's converters.
        with sqlite3.connect(connection.settings_dict["NAME"]) as plain:
            rows = plain.execute(f"SELECT {quoted} FROM {TASK_TABLE} ORDER BY id").fetchall()
            ev_cols = [r[1] for r in plain.execute(f"PRAGMA table_info({EVENT_TABLE})")]
            events = plain.execute(f"SELECT * FROM {EVENT_TABLE} ORDER BY id").fetchall()
            id_rows = plain.execute(f"SELECT id, {quoted} FROM {TASK_TABLE} ORDER BY id").fetchall()
        plain.close()
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {quoted} FROM {TASK_TABLE} ORDER BY id")
            rows = cursor.fetchall()
            cursor.execute(f"SELECT * FROM {EVENT_TABLE} ORDER BY id")
            ev_cols = [d.name for d in cursor.description]
            events = cursor.fetchall()
            cursor.execute(f"SELECT id, {quoted} FROM {TASK_TABLE} ORDER BY id")
            id_rows = cursor.fetchall()
        if events:
            from psycopg.types.json import Jsonb

            events = [
                tuple(Jsonb(v) if isinstance(v, (dict, list)) else v for v in row) for row in events
            ]

    from careloop.followup.models import FollowUpTask

    with connection.cursor() as cursor:
        for rel in FollowUpTask._meta.related_objects:
            table = rel.related_model._meta.db_table
            if table == EVENT_TABLE:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            if cursor.fetchone()[0]:
                raise SystemExit(f"raw: {table} refers to tasks and is not empty; cannot reload")
        referring = [r.related_model._meta.db_table for r in FollowUpTask._meta.related_objects]

    def empty():
        if vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cursor:
                # CASCADE: tables that refer to those (answers → responses) are empty too (checked).
                cursor.execute(
                    f"TRUNCATE {', '.join([TASK_TABLE, *sorted(set(referring))])} CASCADE"
                )
            return
        # Every table that refers to tasks is emptied too, so foreign-key checks may be off for
        # the moment: SQLite then truncates instead of deleting row by row (not timed either way).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys=OFF")
            with transaction.atomic():
                for table in sorted(set(referring)):
                    cursor.execute(f"DELETE FROM {table}")
                cursor.execute(f"DELETE FROM {TASK_TABLE}")
            cursor.execute("PRAGMA foreign_keys=ON")

    def load(table: str, names: list[str], data: list[tuple]) -> None:
        names_sql = ", ".join(f'"{c}"' for c in names)
        if vendor == "postgresql":
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({names_sql}) FROM STDIN") as copy,
            ):
                for row in data:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(names))
            connection.connection.executemany(
                f"INSERT INTO {table} ({names_sql}) VALUES ({marks})", data
            )

    times, with_events = [], []
    for _ in range(int(args.get("repeat", 3))):
        empty()
        start = time.perf_counter()
        with transaction.atomic():
            load(TASK_TABLE, cols, rows)
        times.append(time.perf_counter() - start)
        if events:  # the planner also wrote task events: tasks (with ids) + events, once more
            empty()
            start = time.perf_counter()
            with transaction.atomic():
                load(TASK_TABLE, ["id", *cols], id_rows)
                load(EVENT_TABLE, ev_cols, events)
            with_events.append(time.perf_counter() - start)
    # Put back exactly what the planner wrote (ids included) and its events, for any later step.
    empty()
    with transaction.atomic():
        load(TASK_TABLE, ["id", *cols], id_rows)
        if events:
            load(EVENT_TABLE, ev_cols, events)
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in (TASK_TABLE, EVENT_TABLE):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    after = _state()
    if after["checksum"] != before["checksum"] or after["events"] != before["events"]:
        raise SystemExit(f"raw: the task table was not restored: {before} → {after}")
    return {
        "seconds": min(times),
        "all_seconds": times,
        "with_events_seconds": min(with_events) if with_events else None,
        "rows": len(rows),
        "events": len(events),
        "peak_mb": _peak_mb(),
        "hwm_mb": _hwm_mb(),
    }


ACTIONS = {"build": build, "first": first, "replan": replan, "raw": raw, "state": state}


def main() -> None:
    import django

    action, args = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    django.setup()
    result = ACTIONS[action](args)
    sys.stdout.flush()
    print("\n" + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
