"""bench/queue's data builder, run in its own process against the scratch database:
`python -m bench.queue_worker build '{"tasks": N, "agents": 20}'` prints one JSON line with
the session keys of the measured agents."""

from __future__ import annotations

import json
import sys


def _clone(cursor, model, template_pk: int, n: int, overrides: dict[str, str]) -> None:
    """n copies of one row, with SQL expressions over g (1..n) for the columns that differ."""
    table = model._meta.db_table
    cols = [f.column for f in model._meta.concrete_fields if f.column != "id"]
    select = ", ".join(overrides.get(c, f"t.{c}") for c in cols)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} "
        f"FROM {table} t, generate_series(1, %s) g WHERE t.id = %s",
        [n, template_pk],
    )


def build(args: dict) -> dict:
    import django

    django.setup()
    import datetime as dt

    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from careloop.accounts.models import User
    from careloop.accounts.roles import Role, sync_role_groups
    from careloop.followup.models import FollowUpTask, Policy
    from careloop.followup.presets import ensure_presets
    from careloop.org.choices import DepartmentKind
    from careloop.org.models import Department
    from careloop.patients.models import Patient, Visit

    tasks_n, measured = args["tasks"], args["agents"]
    all_agents = 240
    visits_n = max(tasks_n // 5, 1)
    sync_role_groups()
    ensure_presets()
    policy = Policy.objects.get(slug="kf-phone")
    stage = policy.stages.get(code="inpatient")
    with transaction.atomic():
        service = Department.objects.create(
            code="KFZX", name="客服中心", kind=DepartmentKind.FUNCTIONAL
        )
        wards = [
            Department.objects.create(code=f"W{i}", name=f"病区{i}", kind=DepartmentKind.INPATIENT)
            for i in range(5)
        ]
        group = Group.objects.get(name=Role.AGENT)
        agents = []
        for i in range(all_agents):
            user = User.objects.create_user(
                username=f"agent{i:03d}", password="Bench#2026pass", full_name=f"回访员{i}"
            )
            user.groups.add(group)
            user.departments.add(service)
            agents.append(user)
        now = timezone.now()
        template_patient = Patient.objects.create(patient_no="TPL", name="张三", sex="1")
        template_visit = Visit.objects.create(
            patient=template_patient, visit_type="inpatient", visit_no="TPL",
            department=wards[0], admitted_at=now - dt.timedelta(days=9),
            discharged_at=now - dt.timedelta(days=7),
        )  # fmt: skip
        with connection.cursor() as cursor:
            _clone(cursor, Patient, template_patient.pk, visits_n, {
                "patient_no": "'B' || g", "name": "'患者' || g",
            })  # fmt: skip
            cursor.execute(
                "SELECT min(id), max(id) FROM patients_patient WHERE patient_no LIKE 'B%%'"
            )
            p_lo, p_hi = cursor.fetchone()
            assert p_hi - p_lo + 1 == visits_n, "patient ids are not contiguous"
            ward_ids = [w.pk for w in wards]
            ward_sql = f"(ARRAY{ward_ids})[1 + (g %% {len(ward_ids)})]"
            _clone(cursor, Visit, template_visit.pk, visits_n, {
                "patient_id": f"{p_lo} + g - 1", "visit_no": "'V' || g",
                "department_id": ward_sql,
            })  # fmt: skip
            cursor.execute("SELECT min(id), max(id) FROM patients_visit WHERE visit_no LIKE 'V%%'")
            v_lo, v_hi = cursor.fetchone()
            assert v_hi - v_lo + 1 == visits_n
            agent_ids = [a.pk for a in agents]
            # Task g: visit (g-1)/5, sequence (g-1)%5+1; its window starts `off` days ago
            # (negative: in the future); older than 30 days → finished, else open.
            cursor.execute(
                f"""
                INSERT INTO followup_followuptask (
                    policy_id, stage_id, visit_id, patient_id, department_id, sequence, channel,
                    assignee_role, assignee_id, anchor_at, window_start, window_end, status,
                    exclusion, lifted, claimed_at, next_attempt_at, completed_at, recovered,
                    cancel_reason, assigned_by_plan, created_at, updated_at)
                SELECT %(policy)s, %(stage)s, {v_lo} + (g - 1) / 5, {p_lo} + (g - 1) / 5,
                    {ward_sql}, (g - 1) %% 5 + 1, 'phone', 'agent_pool',
                    CASE WHEN h %% 10 = 0 AND off BETWEEN -10 AND 30 THEN NULL
                         ELSE (ARRAY{agent_ids})[1 + (h / 10) %% {all_agents}] END,
                    now() - (off + 7) * interval '1 day',
                    current_date - off, current_date - off + 6,
                    CASE WHEN off > 30 THEN (CASE WHEN h %% 50 < 44 THEN 'completed'
                                                  WHEN h %% 50 < 47 THEN 'unreachable'
                                                  ELSE 'excluded' END)
                         WHEN off < 0 THEN 'planned'
                         WHEN h %% 40 = 1 THEN 'in_progress' ELSE 'due' END,
                    CASE WHEN off > 30 AND h %% 50 >= 47 THEN 'E6' ELSE '' END,
                    '', NULL, NULL,
                    CASE WHEN off > 30 AND h %% 50 < 47 THEN now() - off * interval '1 day' END,
                    NULL, '', true, now(), now()
                FROM (SELECT g, (g::bigint * 2654435761) %% 1000003 AS h,
                             ((g::bigint * 40503) %% 760)::int - 30 AS off
                      FROM generate_series(1, %(n)s) g) s
                """,
                {"policy": policy.pk, "stage": stage.pk, "n": tasks_n},
            )
        FollowUpTask.objects.filter(visit=template_visit).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would soon after a bulk load
    sessions = []
    for agent in agents[:measured]:
        client = Client()
        client.force_login(agent)
        sessions.append(client.cookies["sessionid"].value)
    counts = dict(
        FollowUpTask.objects.values_list("status").annotate(
            n=__import__("django").db.models.Count("pk")
        )
    )
    mine = FollowUpTask.objects.filter(
        assignee__in=agents[:measured], status__in=["due", "in_progress"]
    ).count()
    return {
        "sessions": sessions,
        "summary": f"{sum(counts.values()):,} tasks {counts}; {visits_n:,} visits; "
        f"{all_agents} agents; the {measured} measured agents hold {mine:,} due/in-progress tasks",
    }


def main() -> None:
    command, args = sys.argv[1], json.loads(sys.argv[2])
    result = {"build": build}[command](args)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
