"""Building blocks for the UI, export and command tests: policies, stages, visits and tasks made
directly with the ORM (the planner has its own tests)."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from careloop.followup.choices import TaskStatus
from careloop.followup.models import FollowUpTask, Policy, Stage
from careloop.patients.models import Patient, Visit

TZ = timezone.get_fixed_timezone(8 * 60)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_policy(slug="test-policy", name="测试回访制度", **extra) -> Policy:
    return Policy.objects.create(slug=slug, name=name, **extra)


def make_stage(policy, code="phone", name="出院电话回访", **extra) -> Stage:
    values = {
        "visit_types": ["inpatient"],
        "anchor": "discharge",
        "window_start_day": 7,
        "channel": "phone",
        "assignee_role": "agent_pool",
    }
    values.update(extra)
    return Stage.objects.create(policy=policy, code=code, name=name, **values)


DEFAULT_DISCHARGE = dt.datetime(2026, 3, 10, 10, 0, tzinfo=TZ)


def make_visit(
    department, *, patient_no, name, visit_no, discharged=DEFAULT_DISCHARGE, **extra
) -> Visit:
    patient, _ = Patient.objects.get_or_create(patient_no=patient_no, defaults={"name": name})
    values = {
        "visit_type": "inpatient",
        "admitted_at": discharged - dt.timedelta(days=5) if discharged else None,
        "discharged_at": discharged,
    }
    values.update(extra)
    return Visit.objects.create(patient=patient, visit_no=visit_no, department=department, **values)


def make_task(stage, visit, *, start=dt.date(2026, 3, 17), end=None, **extra) -> FollowUpTask:
    values = {
        "channel": stage.channel,
        "assignee_role": stage.assignee_role,
        "anchor_at": visit.discharged_at,
        "window_start": start,
        "window_end": end or start + dt.timedelta(days=6),
        "status": TaskStatus.DUE,
    }
    values.update(extra)
    return FollowUpTask.objects.create(
        policy=stage.policy,
        stage=stage,
        visit=visit,
        patient=visit.patient,
        department=visit.department,
        **values,
    )
