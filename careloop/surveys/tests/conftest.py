"""Survey fixtures: the preset questionnaires (Q2) and a follow-up task to attach answers to."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

# The follow-up fixtures (make_visit, presets, activate, clinic) are shared with this app.
from careloop.followup.tests.conftest import activate, clinic, make_visit, presets  # noqa: F401

D = dt.date.fromisoformat
AS_OF = D("2026-05-12")


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def surveys(db):
    """{code: questionnaire} of the presets (created after migrate; ensured again here)."""
    from careloop.surveys.models import Questionnaire
    from careloop.surveys.presets import ensure_presets

    ensure_presets()
    return {q.code: q for q in Questionnaire.objects.all()}


@pytest.fixture
def inpatient(surveys):
    from careloop.surveys.services import current_version

    return current_version("inpatient")


@pytest.fixture
def make_task(org, activate, make_visit, surveys):  # noqa: F811 - fixtures, imported above
    """A kf-phone inpatient task (F1: discharged a week before AS_OF) in ``department``."""
    from careloop.followup.models import FollowUpTask
    from careloop.followup.planner import plan

    activate("kf-phone")

    def make(department=None, discharged="2026-05-05T10:00:00"):
        visit = make_visit(department or org["cardio"], discharged=discharged)
        plan(as_of=AS_OF, full=True)
        return FollowUpTask.objects.get(visit=visit)

    return make


@pytest.fixture
def task(make_task):
    return make_task()


GOOD = {
    "q-attitude": "very_good",
    "q-guidance": "good",
    "q-skill": "very_good",
    "q-ethics": "good",
    "q-overall": "good",
    "q-suggestion": "病房晚上有点吵",
}


def answers(**changes):
    """The inpatient form's POST data: all satisfied, with changes (None removes a key)."""
    data = dict(GOOD)
    for key, value in changes.items():
        key = "q-" + key
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
