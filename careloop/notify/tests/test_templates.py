"""SMS and letter templates: defaults after migrate, rendering, preview, placeholder errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from careloop.accounts.roles import Role
from careloop.followup.tests.uihelpers import client_for
from careloop.notify import services
from careloop.notify.defaults import ensure_templates
from careloop.notify.models import LetterTemplate, SmsTemplate

pytestmark = pytest.mark.django_db


def grant(user, *codenames):
    from django.contrib.auth.models import Permission

    for codename in codenames:
        app, code = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=code)
        )
    return type(user).objects.get(pk=user.pk)


def test_defaults_exist_and_are_not_overwritten(templates):
    assert set(SmsTemplate.objects.values_list("code", flat=True)) == {
        "followup-greeting", "survey-link", "followup-missed", "recovery-greeting",
    }  # fmt: skip
    assert list(LetterTemplate.objects.values_list("code", flat=True)) == ["followup-letter"]
    survey = SmsTemplate.objects.get(code="survey-link")
    assert "请点击 {链接} 填写满意度问卷，回复TD退订" in survey.body
    SmsTemplate.objects.filter(code="survey-link").update(body="改过的 {链接}")
    assert ensure_templates() == []
    assert SmsTemplate.objects.get(code="survey-link").body == "改过的 {链接}"


def test_render_fills_placeholders_and_names_an_unknown_one(settings):
    settings.HOSPITAL_NAME = "示范医院"
    context = services.sample_context()
    assert services.render_sms("{患者姓名}{称呼}您好，{医院}", context) == "张三先生您好，示范医院"
    with pytest.raises(services.NotifyError, match=r"\{电话\}"):
        services.render_sms("{患者姓名}，请拨打{电话}", context)


def test_model_validation_names_the_unknown_placeholder():
    template = SmsTemplate(code="x", name="x", body="您好{姓名}{医院}")
    with pytest.raises(ValidationError) as info:
        template.full_clean()
    assert "{姓名}" in str(info.value.message_dict["body"])


def test_sms_context_for_task(org, settings):
    from careloop.followup.tests.uihelpers import make_policy, make_stage, make_task, make_visit

    settings.HOSPITAL_NAME = "第一人民医院"
    visit = make_visit(org["ortho"], patient_no="C1", name="刘强", visit_no="ZC1")
    visit.patient.sex = "1"
    visit.patient.save()
    task = make_task(make_stage(make_policy()), visit)
    assert services.sms_context_for_task(task) == {
        "患者姓名": "刘强",
        "称呼": "先生",
        "医院": "第一人民医院",
        "科室": "骨科病区",
        "链接": "",
        "出院日期": "2026年3月10日",
    }


def test_edit_page_saves_and_preview_shows_errors(org, make_user, templates):
    user = make_user("sup", Role.NURSING_DEPT, departments=[org["service"]])
    client = client_for(user)
    template = SmsTemplate.objects.get(code="followup-missed")
    assert client.get(f"/notify/sms-templates/{template.pk}/").status_code == 403
    user = grant(user, "notify.view_smstemplate", "notify.change_smstemplate")
    client = client_for(user)
    assert "followup-missed" in client.get("/notify/sms-templates/").content.decode()
    page = client.get(f"/notify/sms-templates/{template.pk}/").content.decode()
    assert "张三先生您好" in page
    preview = client.post(
        f"/notify/sms-templates/{template.pk}/preview/", {"body": "{患者姓名}，见{地址}"}
    ).content.decode()
    assert "无法识别的占位符：{地址}" in preview
    bad = client.post(
        f"/notify/sms-templates/{template.pk}/",
        {"name": "未接通", "body": "{地址}", "is_active": "on"},
    )
    assert bad.status_code == 200 and "{地址}" in bad.content.decode()
    template.refresh_from_db()
    assert "{地址}" not in template.body
    ok = client.post(
        f"/notify/sms-templates/{template.pk}/",
        {"name": "未接通", "body": "{患者姓名}您好，回复TD退订", "is_active": "on"},
    )
    assert ok.status_code == 302
    template.refresh_from_db()
    assert template.body == "{患者姓名}您好，回复TD退订"
    assert template.updated_at > dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_outbox_page_needs_permission_and_masks_phones(org, make_user):
    from careloop.patients.models import Patient

    patient = Patient.objects.create(patient_no="O1", name="周敏", sex="2")
    message = services.queue_sms("13800138000", "您好", patient=patient)
    user = make_user("sup", Role.NURSING_DEPT, departments=[org["service"]])
    assert client_for(user).get("/notify/outbox/").status_code == 403
    user = grant(user, "notify.view_outboxmessage", "notify.change_outboxmessage")
    client = client_for(user)
    html = client.get("/notify/outbox/").content.decode()
    assert "138****8000" in html and "13800138000" not in html and "周敏" in html
    assert client.post(f"/notify/outbox/{message.pk}/cancel/").status_code == 302
    message.refresh_from_db()
    assert message.status == "cancelled"
    assert "138****8000" in client.get("/notify/outbox/", {"status": "cancelled"}).content.decode()
    assert "138****8000" not in client.get("/notify/outbox/", {"status": "sent"}).content.decode()
    nurse = grant(
        make_user("n", Role.NURSE, departments=[org["ortho"]]), "notify.view_outboxmessage"
    )
    assert "周敏" not in client_for(nurse).get("/notify/outbox/").content.decode()  # O3


def test_inbound_page(org, make_user):
    services.receive_reply("13800138000", "TD")
    user = grant(
        make_user("sup", Role.SUPERVISOR, departments=[org["service"]]), "notify.view_inboundsms"
    )
    html = client_for(user).get("/notify/inbound/").content.decode()
    assert "138****8000" in html and "TD" in html
