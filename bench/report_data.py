"""The data of the R1 report benchmark (``python -m bench report``): 24 months of inpatient
discharges, their follow-up tasks, records and questionnaire answers, written raw into a freshly
migrated database. Called by the worker (``python -m bench.report_bench build JSON``).

Per database, seeded:
- 40 inpatient wards of different sizes (lognormal weights), four responsible nurses each (ORM);
- ``tasks / 0.97`` inpatient visits discharged over the 24 months from ``START`` (chronological
  ids, as an HIS import writes them), ~0.75 patients per visit; 3% of the visits have no task;
- one task per visit under the preset policy discharge-nurse (window days 15–30 after
  discharge): stage home-visit for the special patients (6%, channel home_visit), otherwise
  stage phone (channel phone 95%, sms 4%, wechat 1%). Windows closed before ``TODAY``: 80%
  completed, 5% unreachable, 5% excluded (E1–E6; deaths E4), 6% still open (overdue), the rest
  cancelled; windows open on ``TODAY`` or later are mostly due or planned. Completion: 80%
  inside the window, 10% late (1–20 days after it), 10% early (1–10 days before it), 08:00–18:00
  local time;
- 0.5% of the admissions cancelled (visit status cancelled, its task cancelled);
- a FollowUpRecord for 97% of the completed tasks (总评价 很好 52% 好 36% 一般 9% 差 3%, 2%
  blank); a Response to the preset inpatient questionnaire (version 1) for 90% of the recorded
  ones and for every completed task without a record (the patient's own answers through a
  survey link); per response five rating answers (attitude, guidance, skill, ethics — mostly
  the overall rating — and overall), the reason when the overall is 差, a suggestion for 12%;
  3% of the responded tasks answered twice (an SMS-link response the day before: only the
  latest counts).

Loading: the big tables' secondary indexes and unique constraints are dropped first and built
again after the load (COPY FROM STDIN with foreign-key triggers off — session_replication_role
replica — on PostgreSQL; executemany on a plain sqlite3 connection on SQLite), then VACUUM
ANALYZE / ANALYZE: an established database, statistics up to date.
"""

from __future__ import annotations

import datetime as dt
import random
import time

SEED = 2026
UTC = dt.UTC
CN = dt.timedelta(hours=8)  # Asia/Shanghai, no daylight saving
START = dt.date(2024, 7, 1)  # first discharge day (local)
MONTHS = 24
END = dt.date(2026, 7, 1)  # the day after the last discharge day
TODAY = dt.date(2026, 7, 1)  # "today" of the measurement: the data ends the day before
CHUNK = 50_000  # visits per load round
NURSES = 4

WARDS = [
    "心血管内科", "呼吸内科", "消化内科", "神经内科", "内分泌科", "肾内科", "血液科", "风湿免疫科",
    "感染科", "老年医学科", "普通外科", "肝胆外科", "胃肠外科", "骨科", "神经外科", "心胸外科",
    "泌尿外科", "乳腺外科", "血管外科", "烧伤整形科", "妇科", "产科", "儿科", "新生儿科",
    "肿瘤科", "放疗科", "眼科", "耳鼻喉科", "口腔颌面外科", "康复医学科", "重症医学科", "中医科",
    "皮肤科", "精神科", "甲状腺外科", "小儿外科", "介入科", "核医学科", "全科医学科", "疼痛科",
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂兰玉珍建国志红霞文斌辉鹏飞宇浩然欣怡子涵梓萱"
RATINGS = ("very_good", "good", "fair", "poor")
RATING_CUM = (52, 88, 97, 100)
DIMENSIONS = ("attitude", "guidance", "skill", "ethics")
EXCLUSIONS = ("E1", "E2", "E3", "E5", "E6")  # E4 (deceased) follows the disposition
EXCLUSION_CUM = (5, 15, 40, 45, 100)
SUGGESTIONS = ["希望增加复诊提醒", "病房晚上有点吵", "出院手续可以再简化", "护士很耐心，谢谢",
               "停车不方便", "希望饭菜清淡一些"]  # fmt: skip
REASONS = ["等待时间太长", "医生解释不清楚", "护士态度生硬"]

# The tables written raw; their secondary indexes are built after the load.
BIG = ("patients_patient", "patients_visit", "followup_followuptask", "followup_followuprecord",
       "surveys_response", "surveys_answer")  # fmt: skip


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def _pick(rng: random.Random, values, cum) -> str:
    return rng.choices(values, cum_weights=cum)[0]


# --- loading --------------------------------------------------------------------------------


class Loader:
    """Raw writes into the big tables, their indexes dropped before and built after."""

    def __init__(self):
        from django.db import connection

        self.vendor = connection.vendor
        self.rows: dict[str, int] = {}
        self.index_seconds = 0.0
        if self.vendor == "sqlite":
            import sqlite3

            self.conn = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys=OFF")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-500000")
            self.saved = [
                (name, sql)
                for table in BIG
                for name, sql in self.conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                    "AND sql IS NOT NULL",
                    (table,),
                )
            ]
            self.conn.execute("BEGIN")
            for name, _sql in self.saved:
                self.conn.execute(f'DROP INDEX "{name}"')
        else:
            connection.ensure_connection()
            connection.set_autocommit(False)
            self.conn = connection.connection
            with self.conn.cursor() as cur:
                # Foreign-key triggers off while loading (the generator keeps the references
                # right); the constraints stay declared and valid, as in production.
                cur.execute("SET session_replication_role = replica")
                cur.execute("SET maintenance_work_mem = '1GB'")
                cur.execute(
                    "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                    "FROM pg_constraint c WHERE c.contype = 'u' "
                    "AND c.conrelid::regclass::text = ANY(%s)",
                    (list(BIG),),
                )
                self.constraints = cur.fetchall()
                cur.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                    "FROM pg_index i WHERE i.indrelid::regclass::text = ANY(%s) "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                    (list(BIG),),
                )
                self.indexes = cur.fetchall()
                for table, name, _def in self.constraints:
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                for name, _def in self.indexes:
                    cur.execute(f"DROP INDEX {name}")

    @staticmethod
    def check_columns(model, names: list[str]) -> None:
        """Every column must be written: a raw INSERT knows no Django defaults."""
        have = {f.column for f in model._meta.concrete_fields}
        if set(names) != have:
            raise SystemExit(
                f"{model._meta.db_table}: the generator writes {sorted(names)} but the table has "
                f"{sorted(have)}"
            )

    def load(self, model, names: list[str], rows: list[tuple]) -> None:
        table = model._meta.db_table
        cols = ", ".join(f'"{n}"' for n in names)
        if self.vendor == "postgresql":
            with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(names))
            self.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
        self.rows[table] = self.rows.get(table, 0) + len(rows)

    def finish(self) -> None:
        """Commit, build the indexes again, statistics."""
        start = time.perf_counter()
        if self.vendor == "sqlite":
            for _name, sql in self.saved:
                self.conn.execute(sql)
            self.conn.execute("COMMIT")
            self.index_seconds = time.perf_counter() - start
            self.conn.execute("ANALYZE")
            self.conn.close()
            return
        from django.db import connection

        with self.conn.cursor() as cur:
            for table in BIG:  # explicit ids: move the identity sequences past them
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
            cur.execute("SET session_replication_role = DEFAULT")
        connection.commit()
        connection.set_autocommit(True)
        with self.conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '1GB'")
            for table, name, definition in self.constraints:
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for _name, definition in self.indexes:
                cur.execute(definition)
            self.index_seconds = time.perf_counter() - start
            for table in BIG:  # what autovacuum does soon after a bulk load
                cur.execute(f"VACUUM (ANALYZE) {table}")


def _ts_pg(value: dt.datetime) -> dt.datetime:
    return value


def _ts_sqlite(value: dt.datetime) -> str:
    """Django's SQLite format: naive UTC, space-separated."""
    return value.replace(tzinfo=None).isoformat(" ")


# --- organisation ---------------------------------------------------------------------------


def _org(rng: random.Random) -> dict:
    """40 wards of different sizes, four nurses each (their role group), one service agent."""
    from django.contrib.auth.models import Group

    from careloop.accounts.models import User
    from careloop.accounts.roles import Role
    from careloop.org.models import Department

    depts = Department.objects.bulk_create(
        [Department(code=f"BQ{i + 1:02d}", name=f"{n}病区", kind="inpatient")
         for i, n in enumerate(WARDS)]
    )  # fmt: skip
    users, homes = [], []
    for dept in depts:
        for _ in range(NURSES):
            number = len(users) + 1
            users.append(User(username=f"n{number:04d}", staff_no=f"S{number:05d}",
                              full_name=_name(rng), password="!"))  # fmt: skip
            homes.append(dept)
    users = User.objects.bulk_create(users)
    membership = User.departments.through
    membership.objects.bulk_create(
        [membership(user_id=u.pk, department_id=d.pk) for u, d in zip(users, homes, strict=True)]
    )
    nurse_group = Group.objects.get_or_create(name=Role.NURSE)[0]
    in_group = User.groups.through
    in_group.objects.bulk_create([in_group(user_id=u.pk, group_id=nurse_group.pk) for u in users])
    nurses: dict[int, list[tuple[int, str]]] = {}
    for u, d in zip(users, homes, strict=True):
        nurses.setdefault(d.pk, []).append((u.pk, u.full_name))
    weights = [rng.lognormvariate(0, 0.5) for _ in depts]
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    return {"departments": [d.pk for d in depts], "cum": cum, "nurses": nurses,
            "users": len(users)}  # fmt: skip


# --- build ----------------------------------------------------------------------------------

PATIENT_COLS = [
    "id", "patient_no", "name", "sex", "birth_date", "birth_date_estimated", "id_number",
    "id_number_bidx", "address", "is_deceased", "deceased_at", "do_not_contact", "open_dispute",
    "privacy_sensitive", "merged_into_id", "created_at", "updated_at",
]  # fmt: skip
VISIT_COLS = [
    "id", "patient_id", "visit_type", "visit_no", "department_id", "attending_doctor_id",
    "attending_doctor_name", "responsible_nurse_id", "responsible_nurse_name", "admitted_at",
    "discharged_at", "visit_at", "disposition", "cleared_out", "total_cost", "first_visit",
    "lost", "special", "chronic", "guidance_medication", "guidance_diet", "guidance_rehab",
    "revisit_date", "status", "source", "created_at", "updated_at",
]  # fmt: skip
TASK_COLS = [
    "id", "policy_id", "stage_id", "visit_id", "patient_id", "department_id", "sequence",
    "channel", "assignee_role", "assignee_id", "anchor_at", "window_start", "window_end",
    "status", "exclusion", "lifted", "claimed_at", "next_attempt_at", "completed_at",
    "recovered", "cancel_reason", "assigned_by_plan", "created_at", "updated_at",
]  # fmt: skip
RECORD_COLS = [
    "id", "task_id", "condition", "recovered", "adherence", "exercise_life", "education",
    "opinions", "overall", "next_follow_up", "by_id", "at",
]  # fmt: skip
RESPONSE_COLS = [
    "id", "version_id", "task_id", "patient_id", "channel", "submitted_at", "submitted_by_id",
    "request_key",
]  # fmt: skip
ANSWER_COLS = ["id", "response_id", "question_id", "value", "rating", "dimension"]


def build(args: dict) -> dict:
    from django.db import connection

    from careloop.followup.models import FollowUpRecord, FollowUpTask, Policy, Stage
    from careloop.patients.models import Patient, Visit
    from careloop.surveys.models import Answer, Question, QuestionnaireVersion, Response

    n_tasks = int(args["tasks"])
    started = time.perf_counter()
    rng = random.Random(SEED)
    org = _org(rng)
    depts, cum, nurses = org["departments"], org["cum"], org["nurses"]
    policy = Policy.objects.get(slug="discharge-nurse")
    stages = {s.code: s for s in Stage.objects.filter(policy=policy)}
    phone_stage, home_stage = stages["phone"].pk, stages["home-visit"].pk
    first_day, last_day = stages["phone"].window_start_day, stages["phone"].window_last_day
    version = QuestionnaireVersion.objects.get(
        questionnaire__code="inpatient", number=1, status="published"
    )
    questions = {q.code: q.pk for q in Question.objects.filter(version=version)}
    for model, cols in ((Patient, PATIENT_COLS), (Visit, VISIT_COLS), (FollowUpTask, TASK_COLS),
                        (FollowUpRecord, RECORD_COLS), (Response, RESPONSE_COLS),
                        (Answer, ANSWER_COLS)):  # fmt: skip
        Loader.check_columns(model, cols)

    loader = Loader()
    ts = _ts_pg if loader.vendor == "postgresql" else _ts_sqlite
    stamp = ts(dt.datetime.combine(TODAY, dt.time(), tzinfo=UTC) - CN - dt.timedelta(hours=2))
    n_visits = round(n_tasks / 0.97)
    n_patients = max(1, round(n_visits * 0.75))

    # Patients.
    prng = random.Random(SEED + 1)
    birth0 = dt.date(1930, 1, 1)
    for lo in range(0, n_patients, CHUNK * 2):
        rows = [
            (k + 1, f"{900_000_000 + k}", _name(prng), prng.choice("12"),
             birth0 + dt.timedelta(days=prng.randint(0, 33000)), False, "", "", "", False, None,
             False, False, False, None, stamp, stamp)
            for k in range(lo, min(n_patients, lo + CHUNK * 2))
        ]  # fmt: skip
        loader.load(Patient, PATIENT_COLS, rows)

    # Visits, tasks, records, responses, answers in rounds of CHUNK visits.
    vrng = random.Random(SEED + 2)
    span_minutes = (END - START).days * 1440
    start_utc = dt.datetime.combine(START, dt.time(), tzinfo=UTC) - CN
    today_utc = dt.datetime.combine(TODAY, dt.time(), tzinfo=UTC) - CN
    day = dt.timedelta(days=1)
    stats = {"completed": 0, "unreachable": 0, "excluded": 0, "open": 0, "cancelled": 0,
             "records": 0, "responses": 0, "answers": 0, "no_task": 0,
             "answered_twice": 0}  # fmt: skip
    task_id = record_id = response_id = answer_id = 0
    q_dims = [(questions[d], d) for d in DIMENSIONS]
    q_overall, q_reason = questions["overall"], questions["overall_reason"]
    q_suggestion = questions["suggestion"]

    def local_time(on: dt.date) -> dt.datetime:
        """A moment of ``on`` between 08:00 and 18:00 local time, in UTC."""
        return (dt.datetime.combine(on, dt.time(8), tzinfo=UTC) - CN
                + dt.timedelta(minutes=vrng.randrange(600)))  # fmt: skip

    for lo in range(0, n_visits, CHUNK):
        visits, tasks, records, responses, answers = [], [], [], [], []
        for i in range(lo, min(n_visits, lo + CHUNK)):
            vid = i + 1
            pid = vid if vid <= n_patients else vrng.randrange(n_patients) + 1
            dept = vrng.choices(depts, cum_weights=cum)[0]
            nurse_id, nurse_name = vrng.choice(nurses[dept])
            # Chronological: visit i is discharged in the i-th slice of the 24 months.
            discharged = start_utc + dt.timedelta(
                minutes=(i + vrng.random()) * span_minutes / n_visits
            )
            stay = min(60, max(1, round(vrng.lognormvariate(1.6, 0.6))))
            r = vrng.random()
            disposition = "1" if r < 0.93 else "2" if r < 0.96 else "4" if r < 0.98 else (
                "5" if r < 0.99 else "9")  # fmt: skip
            special = vrng.random() < 0.06
            cancelled = vrng.random() < 0.005  # a cancelled admission: no discharge counted
            visits.append(
                (vid, pid, "inpatient", f"ZY{vid:09d}", dept, None, "", nurse_id, nurse_name,
                 ts(discharged - dt.timedelta(days=stay, minutes=vrng.randrange(600))),
                 ts(discharged), None, disposition, False, f"{vrng.randint(3000, 80000)}.00",
                 False, False, special, vrng.random() < 0.15, "", "", "", None,
                 "cancelled" if cancelled else "active", "import", stamp, stamp)
            )  # fmt: skip
            if vrng.random() < 0.03:
                stats["no_task"] += 1
                continue
            task_id += 1
            out_day = (discharged + CN).date()
            w_start, w_end = out_day + first_day * day, out_day + last_day * day
            if special:
                stage, channel = home_stage, "home_visit"
            else:
                r = vrng.random()
                stage = phone_stage
                channel = "phone" if r < 0.95 else "sms" if r < 0.99 else "wechat"
            exclusion = completed_at = recovered = None
            cancel = ""
            r = vrng.random()
            if cancelled:
                status, cancel = "cancelled", "入院已取消"
            elif disposition == "5":
                status, exclusion = "excluded", "E4"
            elif r < 0.05:
                status, exclusion = "excluded", _pick(vrng, EXCLUSIONS, EXCLUSION_CUM)
            elif w_start >= TODAY:
                status = "planned"
            elif w_end >= TODAY:  # window open today
                status = "completed" if r < 0.45 else "unreachable" if r < 0.47 else (
                    "due" if r < 0.95 else "in_progress")  # fmt: skip
            else:
                status = "completed" if r < 0.84 else "unreachable" if r < 0.89 else (
                    "due" if r < 0.935 else "in_progress" if r < 0.945 else "planned" if
                    r < 0.955 else "cancelled")  # fmt: skip
            if status in ("completed", "unreachable"):
                r = vrng.random()
                if r < 0.80 or (status == "unreachable" and r < 0.9):
                    on = w_start + vrng.randrange(last_day - first_day + 1) * day
                elif r < 0.90 or status == "unreachable":
                    on = w_end + vrng.randint(1, 20) * day
                else:
                    on = max(out_day + day, w_start - vrng.randint(1, 10) * day)
                if on >= TODAY:
                    on = TODAY - day
                completed_at = local_time(on)
                if completed_at >= today_utc:
                    completed_at = today_utc - dt.timedelta(minutes=1)
                if status == "completed":
                    recovered = vrng.random() < 0.6
            elif status == "cancelled" and not cancel:
                cancel = "就诊记录已撤销"
            stats["open" if status in ("planned", "due", "in_progress") else status] += 1
            created = discharged + dt.timedelta(hours=1)
            tasks.append(
                (task_id, policy.pk, stage, vid, pid, dept, 1, channel, "responsible_nurse",
                 nurse_id, ts(discharged), w_start, w_end, status, exclusion or "", "", None,
                 None, ts(completed_at) if completed_at else None, recovered, cancel, True,
                 ts(created), ts(completed_at or created))
            )  # fmt: skip
            if status != "completed":
                continue
            overall = _pick(vrng, RATINGS, RATING_CUM)
            has_record = vrng.random() < 0.97
            if has_record:
                record_id += 1
                blank = vrng.random() < 0.02
                opinion = vrng.choice(SUGGESTIONS) if vrng.random() < 0.1 else ""
                records.append(
                    (record_id, task_id, "恢复良好" if recovered else "仍在康复中", recovered,
                     "regular", "", "[]", opinion, "" if blank else overall, None, nurse_id,
                     ts(completed_at))
                )  # fmt: skip
            if has_record and vrng.random() >= 0.9:
                continue
            if vrng.random() < 0.03:
                # Answered twice: the patient through the SMS link a day earlier, then the
                # call; only the latest response counts.
                response_id += 1
                responses.append(
                    (response_id, version.pk, task_id, pid, "sms_link",
                     ts(completed_at - day), None, None)
                )  # fmt: skip
                for qid, dim in [*q_dims, (q_overall, "overall")]:
                    rating = _pick(vrng, RATINGS, RATING_CUM)
                    answer_id += 1
                    answers.append((answer_id, response_id, qid, f'"{rating}"', rating, dim))
                stats["answered_twice"] += 1
            response_id += 1
            by_link = not has_record
            responses.append(
                (response_id, version.pk, task_id, pid,
                 "sms_link" if by_link else "home_visit" if channel == "home_visit" else "phone",
                 ts(completed_at), None if by_link else nurse_id, None)
            )  # fmt: skip
            for qid, dim in q_dims:
                rating = overall if vrng.random() < 0.7 else _pick(vrng, RATINGS, RATING_CUM)
                answer_id += 1
                answers.append((answer_id, response_id, qid, f'"{rating}"', rating, dim))
            answer_id += 1
            answers.append((answer_id, response_id, q_overall, f'"{overall}"', overall, "overall"))
            if overall == "poor":
                answer_id += 1
                answers.append((answer_id, response_id, q_reason, f'"{vrng.choice(REASONS)}"',
                                "", ""))  # fmt: skip
            if vrng.random() < 0.12:
                answer_id += 1
                answers.append((answer_id, response_id, q_suggestion,
                                f'"{vrng.choice(SUGGESTIONS)}"', "", ""))  # fmt: skip
        loader.load(Visit, VISIT_COLS, visits)
        loader.load(FollowUpTask, TASK_COLS, tasks)
        loader.load(FollowUpRecord, RECORD_COLS, records)
        loader.load(Response, RESPONSE_COLS, responses)
        loader.load(Answer, ANSWER_COLS, answers)
    load_seconds = time.perf_counter() - started
    loader.finish()
    stats.update(records=record_id, responses=response_id, answers=answer_id)
    size_mb = None
    if loader.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database())")
            size_mb = cur.fetchone()[0] / 1e6
    connection.close()
    return {
        "seconds": time.perf_counter() - started,
        "load_seconds": load_seconds,
        "index_seconds": loader.index_seconds,
        "rows": loader.rows,
        "tasks": task_id,
        "visits": n_visits,
        "patients": n_patients,
        "departments": len(depts),
        "users": org["users"],
        "stats": stats,
        "size_mb": size_mb,
    }
