"""Questionnaire pages, the editor (Q1) and the response pages (O2 permissions, O3 scope).
Permissions are granted explicitly so these tests do not depend on the role table."""

from __future__ import annotations

import pytest
from django.test import Client

from careloop.surveys import services
from careloop.surveys.forms import ResponseForm
from careloop.surveys.models import Question, QuestionnaireVersion, Response

from .conftest import answers, grant

pytestmark = pytest.mark.django_db
EDIT = ("view_questionnaire", "add_questionnaire", "change_questionnaire")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def supervisor(org, make_user):
    return grant(make_user("survey.boss", departments=[org["service"]]), *EDIT, "view_response")


def snapshot():
    return (
        list(QuestionnaireVersion.objects.order_by("pk").values_list("pk", "status")),
        list(Question.objects.order_by("pk").values_list("pk", "text", "position")),
        Response.objects.count(),
    )


def test_user_without_rights_is_refused_and_nothing_changes_O2(surveys, inpatient, make_user):
    client = client_for(make_user("someone"))
    before = snapshot()
    base = "/surveys/questionnaires/inpatient"
    for url in (
        "/surveys/questionnaires/",
        "/surveys/questionnaires/add/",
        f"{base}/",
        f"{base}/v1/",
        f"{base}/edit/",
        "/surveys/responses/",
    ):
        assert client.get(url).status_code == 403, url
    question = inpatient.questions.get(code="attitude")
    for url, data in (
        (f"{base}/draft/", {}),
        (f"{base}/v1/publish/", {}),
        (f"{base}/v1/questions/add/", {"code": "x", "text": "x", "kind": "text"}),
        (f"{base}/v1/questions/{question.pk}/", {"code": "x", "text": "x", "kind": "text"}),
        (f"{base}/v1/questions/{question.pk}/delete/", {}),
        (f"{base}/v1/questions/{question.pk}/move/", {"direction": "down"}),
        ("/surveys/questionnaires/add/", {"code": "x", "name": "x", "audience": "any"}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert snapshot() == before


def test_viewer_reads_but_cannot_edit_O2(surveys, inpatient, make_user):
    client = client_for(grant(make_user("reader"), "view_questionnaire"))
    page = client.get("/surveys/questionnaires/")
    assert page.status_code == 200
    assert "出院病人满意度调查" in page.content.decode()
    assert "门诊病人满意度调查" in page.content.decode()
    page = client.get("/surveys/questionnaires/inpatient/")
    html = page.content.decode()
    assert "您对出院指导（膳食、服药、复诊、康复）满意吗？" in html
    assert "修订题目" not in html
    before = snapshot()
    assert client.post("/surveys/questionnaires/inpatient/draft/").status_code == 403
    assert snapshot() == before


def test_supervisor_edits_a_draft_and_publishes_it_Q1(surveys, inpatient, supervisor):
    client = client_for(supervisor)
    base = "/surveys/questionnaires/inpatient"
    page = client.post(f"{base}/draft/")
    assert page.status_code == 302
    assert page["Location"] == f"{base}/v2/"
    draft = services.start_draft(surveys["inpatient"])
    assert draft.number == 2
    attitude = draft.questions.get(code="attitude")
    for url in (
        f"{base}/",
        f"{base}/v2/",
        f"{base}/v2/questions/add/",
        f"{base}/v2/questions/{attitude.pk}/",
        f"{base}/v2/questions/{attitude.pk}/delete/",
        f"{base}/edit/",
    ):
        assert client.get(url).status_code == 200, url
    assert "发布此版本" in client.get(f"{base}/").content.decode()

    page = client.post(
        f"{base}/v2/questions/add/",
        {
            "code": "ward_reason",
            "text": "服务态度哪里不满意？",
            "kind": "multiple",
            "options_text": "护士\n医生\n护工",
            "required": "on",
            "condition_question": draft.questions.get(code="attitude").pk,
            "condition_values_text": "一般，差",
        },
    )
    assert page.status_code == 302
    added = draft.questions.get(code="ward_reason")
    assert (added.options, added.condition_values, added.position) == (
        ["护士", "医生", "护工"],
        ["fair", "poor"],
        7,
    )
    client.post(f"{base}/v2/questions/{added.pk}/move/", {"direction": "up"})
    added.refresh_from_db()
    assert added.position == 6

    suggestion = draft.questions.get(code="suggestion")
    page = client.post(
        f"{base}/v2/questions/{suggestion.pk}/",
        {"code": "suggestion", "text": "您对本院还有什么建议？", "kind": "text"},
    )
    assert page.status_code == 302
    suggestion.refresh_from_db()
    assert (suggestion.text, suggestion.required) == ("您对本院还有什么建议？", False)

    page = client.post(f"{base}/v2/publish/")
    assert page.status_code == 302
    assert services.current_version("inpatient").number == 2
    inpatient.refresh_from_db()
    assert inpatient.status == "retired"
    assert inpatient.questions.get(code="suggestion").text == "您对我们还有什么意见或建议？"

    # A published version cannot be edited through the pages either.
    before = snapshot()
    page = client.post(
        f"{base}/v2/questions/{suggestion.pk}/",
        {"code": "suggestion", "text": "再改", "kind": "text"},
        follow=True,
    )
    assert "第 2 版已发布，不能修改。" in page.content.decode()
    assert snapshot() == before


def test_question_form_refuses_bad_conditions_and_options_Q1(surveys, supervisor):
    draft = services.start_draft(surveys["inpatient"])
    client = client_for(supervisor)
    url = f"/surveys/questionnaires/inpatient/v{draft.number}/questions/add/"
    before = snapshot()
    page = client.post(
        url,
        {
            "code": "attitude",
            "text": "重复代码",
            "kind": "single",
            "options_text": "只有一个",
            "dimension": "skill",
            "condition_question": draft.questions.get(code="overall").pk,
            "condition_values_text": "很差",
        },
    )
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert errors["code"] == ["本版本已有代码为“attitude”的题目"]
    assert errors["options_text"] == ["单选、多选题至少需要两个选项"]
    assert errors["dimension"] == ["只有评价题可以设置统计维度"]
    assert errors["condition_values_text"] == [
        "“很差”不是“总的来说，您对这次住院满意吗？”的回答选项"
    ]
    assert snapshot() == before


def test_new_questionnaire_starts_as_an_empty_draft_Q1(db, supervisor):
    client = client_for(supervisor)
    page = client.post(
        "/surveys/questionnaires/add/",
        {"code": "er", "name": "急诊病人满意度调查", "audience": "outpatient"},
    )
    assert page.status_code == 302
    assert page["Location"] == "/surveys/questionnaires/er/v1/"
    version = QuestionnaireVersion.objects.get(questionnaire__code="er")
    assert (version.number, version.status) == (1, "draft")
    page = client.post("/surveys/questionnaires/er/v1/publish/", follow=True)
    assert "问卷至少需要一道题目" in page.content.decode()
    version.refresh_from_db()
    assert version.status == "draft"


@pytest.fixture
def two_departments(org, make_visit, activate, inpatient):
    from careloop.followup.models import FollowUpTask
    from careloop.followup.planner import plan

    from .conftest import AS_OF

    activate("kf-phone")
    cardio = make_visit(org["cardio"], discharged="2026-05-05T10:00:00")
    ortho = make_visit(org["ortho"], discharged="2026-05-05T11:00:00")
    plan(as_of=AS_OF, full=True)
    responses = {}
    for key, visit, data in (
        ("cardio", cardio, answers()),
        ("ortho", ortho, answers(attitude="poor", overall="poor", overall_reason="骨科护工态度差")),
    ):
        form = ResponseForm(inpatient, data=data)
        assert form.is_valid()
        responses[key] = form.save(task=FollowUpTask.objects.get(visit=visit))
    return responses


def test_response_list_is_scoped_to_the_department_O3(two_departments, personas):
    head = grant(personas["dept_head"], "view_response")
    page = client_for(head).get("/surveys/responses/")
    assert page.status_code == 200
    rows = list(page.context["table"].rows)
    assert [r.record.pk for r in rows] == [two_departments["cardio"].pk]

    agent = grant(personas["agent"], "view_response")
    page = client_for(agent).get("/surveys/responses/")
    assert {r.record.pk for r in page.context["table"].rows} == {
        two_departments["cardio"].pk,
        two_departments["ortho"].pk,
    }
    page = client_for(agent).get("/surveys/responses/?dimension=attitude&rating=poor")
    assert [r.record.pk for r in page.context["table"].rows] == [two_departments["ortho"].pk]
    page = client_for(agent).get("/surveys/responses/?rating=very_good&dimension=ethics")
    assert list(page.context["table"].rows) == []


def test_response_detail_is_scoped_and_shows_the_answered_version_O3_Q1(
    two_departments, personas, surveys
):
    head = grant(personas["dept_head"], "view_response")
    client = client_for(head)
    assert client.get(f"/surveys/responses/{two_departments['ortho'].pk}/").status_code == 404
    ortho_nurse = grant(personas["ortho_nurse"], "view_response")
    assert (
        client_for(ortho_nurse)
        .get(f"/surveys/responses/{two_departments['cardio'].pk}/")
        .status_code
        == 404
    )
    assert (
        client_for(ortho_nurse)
        .get(f"/surveys/responses/{two_departments['ortho'].pk}/")
        .status_code
        == 200
    )

    draft = services.start_draft(surveys["inpatient"])
    attitude = draft.questions.get(code="attitude")
    attitude.text = "新版的服务态度题"
    services.save_question(attitude)
    services.publish_version(draft)

    page = client.get(f"/surveys/responses/{two_departments['cardio'].pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "您对住院期间医护人员的服务态度满意吗？" in html
    assert "新版的服务态度题" not in html
    assert "很好" in html
    assert "病房晚上有点吵" in html
