"""Q4 + SMS: a message with {链接} carries a fresh single-use survey link for the task."""

import datetime as dt

from careloop.followup.models import FollowUpTask
from careloop.followup.planner import plan
from careloop.notify.models import SmsTemplate
from careloop.notify.services import render_sms, sms_context_for_task
from careloop.surveys.models import SurveyInvitation


def test_survey_link_sms_issues_one_invitation_Q4(org, activate, make_visit, settings):
    settings.CARELOOP_PUBLIC_BASE_URL = "https://hf.example"
    activate("kf-phone")
    make_visit(org["cardio"], discharged="2026-10-03T10:00")
    plan(as_of=dt.date(2026, 10, 12))
    task = FollowUpTask.objects.get()
    greeting = SmsTemplate.objects.get(code="followup-greeting")
    sms_context_for_task(task, greeting.body)
    assert not SurveyInvitation.objects.exists()  # no {链接}: no invitation issued
    template = SmsTemplate.objects.get(code="survey-link")
    body = render_sms(template, sms_context_for_task(task, template.body))
    invitation = SurveyInvitation.objects.get()
    assert invitation.task == task
    assert "https://hf.example/s/" in body and "回复TD退订" in body
    assert task.patient.name not in body.split("https://")[1]  # no personal data in the link
