"""Q4: the patient's survey link — single use, expiring, no login, no personal data."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.test import Client

from careloop.surveys import services
from careloop.surveys.forms import ResponseForm
from careloop.surveys.models import Answer, Response, SurveyInvitation

from .conftest import answers

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))
ISSUED = dt.datetime(2026, 5, 12, 10, 0, tzinfo=TZ)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def link(task, inpatient):
    with at(ISSUED):
        invitation, token = services.issue_invitation(task)
    return invitation, token, services.build_survey_url(token)


def written():
    return (Response.objects.count(), Answer.objects.count())


def test_only_the_hash_of_a_random_token_is_stored_Q4(link, inpatient):
    invitation, token, url = link
    assert len(token) == 43  # 32 random bytes, URL-safe base64
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not SurveyInvitation.objects.filter(token_hash=token).exists()
    assert invitation.version == inpatient
    assert invitation.expires_at == ISSUED + dt.timedelta(days=7)
    assert url == f"/s/{token}/"


def test_link_days_and_public_address_are_settings_Q4(task, inpatient, settings):
    settings.CARELOOP_SURVEY_LINK_DAYS = 3
    settings.CARELOOP_PUBLIC_BASE_URL = "https://survey.example-hospital.cn"
    invitation, token = services.issue_invitation(task)
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=3)
    assert services.build_survey_url(token) == f"https://survey.example-hospital.cn/s/{token}/"
    other, _token = services.issue_invitation(task, days=14)
    assert other.expires_at - other.created_at == dt.timedelta(days=14)


def test_page_needs_no_login_and_shows_no_personal_data_Q4(link, task):
    _invitation, _token, url = link
    patient, visit = task.patient, task.visit
    phone = patient.phones.get().number
    for secret in (patient.name, patient.patient_no, visit.visit_no, phone):
        assert secret not in url
    with at(ISSUED + dt.timedelta(hours=2)):
        page = Client().get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "示范医院" in html
    assert "心血管内科病区" in html
    assert "2026年5月5日" in html  # the discharge day
    assert "您对出院指导（膳食、服药、复诊、康复）满意吗？" in html
    for secret in (patient.name, patient.patient_no, visit.visit_no, phone, "退出"):
        assert secret not in html
    assert page["Referrer-Policy"] == "same-origin"
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in page["Cache-Control"]


def test_answers_attach_to_the_task_and_the_link_works_once_Q4(link, task):
    invitation, _token, url = link
    client = Client()
    with at(ISSUED + dt.timedelta(days=1)):
        first = client.post(url, answers(overall="poor", overall_reason="出院结账排队太久"))
    assert first.status_code == 302
    response = Response.objects.get()
    assert response.task == task
    assert response.patient == task.patient
    assert response.channel == "sms_link"
    assert response.submitted_by is None
    assert services.ratings_of(response)["overall"] == "poor"
    invitation.refresh_from_db()
    assert invitation.used_at == ISSUED + dt.timedelta(days=1)
    assert invitation.response == response

    before = written()
    with at(ISSUED + dt.timedelta(days=1, minutes=1)):
        again = client.post(url, answers())
        shown = client.get(url)
    assert again.status_code == 200
    assert "您已完成本次问卷，感谢您的反馈" in again.content.decode()
    assert "您已完成本次问卷，感谢您的反馈" in shown.content.decode()
    assert "<form" not in shown.content.decode()
    assert written() == before


def test_invalid_answers_keep_the_link_usable_Q4(link):
    invitation, _token, url = link
    with at(ISSUED + dt.timedelta(days=1)):
        page = Client().post(url, answers(attitude=None))
    assert page.status_code == 200
    assert "请回答“您对住院期间医护人员的服务态度满意吗？”" in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert written() == (0, 0)


def test_two_submits_of_one_link_write_one_response_Q4(link, inpatient):
    """Both requests loaded the unused invitation; the conditional update lets one through."""
    invitation, token, _url = link
    stale = services.find_invitation(token)
    with at(ISSUED + dt.timedelta(days=1)):
        form = ResponseForm(inpatient, data=answers())
        assert form.is_valid()
        services.submit_invitation(invitation, form)
        before = written()
        late = ResponseForm(inpatient, data=answers(attitude="poor"))
        assert late.is_valid()
        with pytest.raises(services.LinkUsed):
            services.submit_invitation(stale, late)
    assert written() == before == (1, 6)


def test_expired_link_says_so_kindly_and_writes_nothing_Q4(link):
    invitation, _token, url = link
    client = Client()
    with at(ISSUED + dt.timedelta(days=7) - dt.timedelta(seconds=1)):
        assert client.get(url).status_code == 200
    with at(ISSUED + dt.timedelta(days=7)):
        page = client.get(url)
        posted = client.post(url, answers())
    assert page.status_code == 410
    assert "本次问卷的填写时间已过" in page.content.decode()
    assert posted.status_code == 410
    assert written() == (0, 0)
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_expiry_between_loading_and_submitting_is_refused_Q4(link, inpatient):
    invitation, _token, _url = link
    form = ResponseForm(inpatient, data=answers())
    assert form.is_valid()
    with (
        at(ISSUED + dt.timedelta(days=8)),
        pytest.raises(services.LinkExpired),
    ):
        services.submit_invitation(invitation, form)
    assert written() == (0, 0)


@pytest.mark.parametrize("token", ["x" * 43, "abc", "A" * 200])
def test_wrong_token_gets_the_same_kind_404_Q4(link, token):
    page = Client().get(f"/s/{token}/")
    assert page.status_code == 404
    html = page.content.decode()
    assert "抱歉，没有找到这份问卷" in html
    assert "心血管内科病区" not in html
    assert Client().post(f"/s/{token}/", answers()).status_code == 404
    assert written() == (0, 0)


def test_no_questionnaire_no_link_Q4(task, inpatient):
    inpatient.questionnaire.code = "renamed"
    inpatient.questionnaire.save()
    with pytest.raises(services.ServiceError, match="尚未发布"):
        services.issue_invitation(task)
    assert SurveyInvitation.objects.count() == 0
