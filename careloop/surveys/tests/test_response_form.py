"""Q1: the form the call screen and the patient page use — required and conditional questions,
the saved answers, idempotent saving."""

from __future__ import annotations

import pytest

from careloop.surveys import services
from careloop.surveys.forms import ResponseForm
from careloop.surveys.models import Answer, Question, Response

from .conftest import answers

pytestmark = pytest.mark.django_db


def test_required_questions_are_named_in_the_message_Q1(inpatient):
    form = ResponseForm(inpatient, data=answers(attitude=None, ethics=""))
    assert not form.is_valid()
    assert form.errors["attitude"] == ["请回答“您对住院期间医护人员的服务态度满意吗？”"]
    assert form.errors["ethics"] == ["请回答“您对医护人员的医德医风满意吗？”"]
    assert set(form.errors) == {"attitude", "ethics"}


def test_optional_question_may_stay_empty_Q1(inpatient):
    form = ResponseForm(inpatient, data=answers(suggestion=None))
    assert form.is_valid(), form.errors


def test_conditional_question_is_required_only_when_shown_Q1(inpatient):
    form = ResponseForm(inpatient, data=answers(overall="poor"))
    assert not form.is_valid()
    assert form.errors["overall_reason"] == ["请回答“请问您对哪些方面不满意？”"]
    form = ResponseForm(inpatient, data=answers(overall="poor", overall_reason="  "))
    assert not form.is_valid()
    form = ResponseForm(inpatient, data=answers(overall="poor", overall_reason="出院手续太慢"))
    assert form.is_valid(), form.errors
    for rating in ("very_good", "good", "fair"):
        assert ResponseForm(inpatient, data=answers(overall=rating)).is_valid()


def test_answer_to_a_hidden_question_is_dropped_Q1(inpatient):
    form = ResponseForm(inpatient, data=answers(overall="good", overall_reason="本不该出现"))
    assert form.is_valid()
    response = form.save()
    assert not response.answers.filter(question__code="overall_reason").exists()


def test_invalid_rating_is_refused_with_the_question_named_Q1(inpatient):
    form = ResponseForm(inpatient, data=answers(skill="excellent"))
    assert not form.is_valid()
    assert form.errors["skill"] == ["“您对医护人员的诊疗技术水平满意吗？”的回答不在选项中"]


def test_save_writes_answers_with_rating_and_dimension_Q1_Q3(inpatient, task, personas):
    form = ResponseForm(inpatient, data=answers(overall="poor", overall_reason="出院手续太慢"))
    assert form.is_valid()
    response = form.save(task=task, by=personas["agent"])
    assert response.version == inpatient
    assert response.task == task
    assert response.patient == task.patient
    assert response.channel == "phone"
    assert response.submitted_by == personas["agent"]
    rows = list(
        response.answers.order_by("question__position").values_list(
            "question__code", "value", "rating", "dimension"
        )
    )
    assert rows == [
        ("attitude", "very_good", "very_good", "attitude"),
        ("guidance", "good", "good", "guidance"),
        ("skill", "very_good", "very_good", "skill"),
        ("ethics", "good", "good", "ethics"),
        ("overall", "poor", "poor", "overall"),
        ("overall_reason", "出院手续太慢", "", ""),
        ("suggestion", "病房晚上有点吵", "", ""),
    ]
    assert services.ratings_of(response) == {
        "attitude": "very_good",
        "guidance": "good",
        "skill": "very_good",
        "ethics": "good",
        "overall": "poor",
    }


def test_save_is_idempotent_on_request_key_Q1(inpatient, task, personas):
    first = ResponseForm(inpatient, data=answers())
    assert first.is_valid()
    response = first.save(task=task, by=personas["agent"], request_key="call-42-abc")
    counts = (Response.objects.count(), Answer.objects.count())
    second = ResponseForm(inpatient, data=answers(attitude="poor"))
    again = second.save(task=task, by=personas["agent"], request_key="call-42-abc")
    assert again.pk == response.pk
    assert (Response.objects.count(), Answer.objects.count()) == counts
    assert services.ratings_of(again)["attitude"] == "very_good"
    # Without a key every save is a new response.
    third = ResponseForm(inpatient, data=answers())
    assert third.is_valid()
    assert third.save().pk != response.pk


def test_all_question_kinds_Q1(db):
    questionnaire = services.create_questionnaire(code="demo", name="演示", audience="any")
    draft = questionnaire.versions.get()
    for code, kind, extra in [
        ("pick", "single", {"options": ["电视", "朋友介绍", "网络"]}),
        ("many", "multiple", {"options": ["挂号", "缴费", "取药"]}),
        ("again", "yes_no", {}),
        ("nps", "score", {}),
        ("note", "text", {"required": False}),
    ]:
        services.save_question(Question(version=draft, code=code, text=code, kind=kind, **extra))
    why = Question(
        version=draft,
        code="why_not",
        text="为什么不愿意再来？",
        kind="text",
        condition_question=draft.questions.get(code="again"),
        condition_values=["no"],
    )
    services.save_question(why)
    services.publish_version(draft)

    data = {"q-pick": "网络", "q-many": ["挂号", "取药"], "q-again": "yes", "q-nps": "0"}
    form = ResponseForm(draft, data=data)
    assert form.is_valid(), form.errors
    values = dict(form.save().answers.values_list("question__code", "value"))
    assert values == {"pick": "网络", "many": ["挂号", "取药"], "again": "yes", "nps": 0}

    form = ResponseForm(draft, data={**data, "q-nps": "11", "q-again": "no"})
    assert not form.is_valid()
    assert form.errors["nps"] == ["“nps”请填写 0 到 10 之间的整数"]
    assert form.errors["why_not"] == ["请回答“为什么不愿意再来？”"]
    form = ResponseForm(draft, data={**data, "q-many": ["挂号", "住院"]})
    assert not form.is_valid()
    assert "many" in form.errors


def test_rendered_form_carries_condition_attributes_and_keyboard_radios_Q1(inpatient):
    html = str(ResponseForm(inpatient))
    assert 'data-condition-question="q-overall"' in html
    assert 'data-condition-values="[&quot;poor&quot;]"' in html
    assert "careloop/survey.js" in html
    # Ratings in the order 很好/好/一般/差, as radios with labels.
    attitude = html[html.index('id="question-q-attitude"') :]
    attitude = attitude[: attitude.index('id="question-q-guidance"')]
    positions = [attitude.index(f">{label}</label>") for label in ("很好", "好", "一般", "差")]
    assert positions == sorted(positions)
    assert attitude.count('type="radio"') == 4
    assert "<legend" in attitude


def test_current_version_is_the_latest_published_Q1(surveys, inpatient):
    assert services.current_version("inpatient") == inpatient
    assert services.current_version("nope") is None
    draft = services.start_draft(surveys["inpatient"])
    assert services.current_version("inpatient") == inpatient
    services.publish_version(draft)
    assert services.current_version("inpatient") == draft
