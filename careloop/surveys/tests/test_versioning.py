"""Q1 versioning and the Q2 default questionnaires."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from careloop.surveys import services
from careloop.surveys.forms import ResponseForm
from careloop.surveys.models import Question, QuestionnaireVersion, VersionFrozen
from careloop.surveys.presets import ensure_presets

from .conftest import answers

pytestmark = pytest.mark.django_db


def test_inpatient_default_has_the_four_dimensions_of_seed_003_Q2(inpatient):
    assert inpatient.number == 1
    assert inpatient.status == "published"
    assert inpatient.published_at is not None
    rows = list(inpatient.questions.values_list("code", "kind", "dimension", "required"))
    assert rows == [
        ("attitude", "rating", "attitude", True),
        ("guidance", "rating", "guidance", True),
        ("skill", "rating", "skill", True),
        ("ethics", "rating", "ethics", True),
        ("overall", "rating", "overall", True),
        ("overall_reason", "text", "", True),
        ("suggestion", "text", "", False),
    ]
    guidance = inpatient.questions.get(code="guidance")
    assert "膳食、服药、复诊、康复" in guidance.text
    reason = inpatient.questions.get(code="overall_reason")
    assert reason.condition_question.code == "overall"
    assert reason.condition_values == ["poor"]


def test_outpatient_default_is_published_Q2(surveys):
    version = services.current_version("outpatient")
    assert version.number == 1
    assert surveys["outpatient"].audience == "outpatient"
    assert list(version.questions.exclude(dimension="").values_list("dimension", flat=True)) == [
        "attitude",
        "process",
        "skill",
        "overall",
    ]


def test_presets_are_created_once_and_never_overwritten_Q2(surveys, inpatient):
    surveys["inpatient"].name = "本院出院病人问卷"
    surveys["inpatient"].save()
    assert ensure_presets() == []
    surveys["inpatient"].refresh_from_db()
    assert surveys["inpatient"].name == "本院出院病人问卷"
    assert QuestionnaireVersion.objects.filter(questionnaire__code="inpatient").count() == 1


def test_published_version_is_frozen_Q1(inpatient):
    question = inpatient.questions.get(code="attitude")
    question.text = "改过的题目"
    with pytest.raises(VersionFrozen):
        question.save()
    with pytest.raises(services.ServiceError, match="已发布"):
        services.save_question(question)
    with pytest.raises(services.ServiceError, match="已发布"):
        services.delete_question(inpatient.questions.get(code="suggestion"))
    with pytest.raises(services.ServiceError, match="已发布"):
        services.publish_version(inpatient)
    assert inpatient.questions.get(code="attitude").text == "您对住院期间医护人员的服务态度满意吗？"
    assert inpatient.questions.count() == 7


def test_editing_makes_a_new_draft_copied_from_the_latest_Q1(surveys, inpatient):
    draft = services.start_draft(surveys["inpatient"])
    assert (draft.number, draft.status) == (2, "draft")
    assert services.start_draft(surveys["inpatient"]) == draft  # one draft at a time
    copied = list(draft.questions.values_list("code", "text", "kind", "dimension", "position"))
    original = list(
        inpatient.questions.values_list("code", "text", "kind", "dimension", "position")
    )
    assert copied == original
    reason = draft.questions.get(code="overall_reason")
    # The condition points at the draft's own question, not the published one.
    assert reason.condition_question == draft.questions.get(code="overall")
    # The published version is still the one in use until the draft is published.
    assert services.current_version("inpatient") == inpatient


def test_publishing_a_draft_retires_the_old_version_and_old_responses_keep_theirs_Q1(
    surveys, inpatient
):
    form = ResponseForm(inpatient, data=answers())
    assert form.is_valid()
    old_response = form.save()

    draft = services.start_draft(surveys["inpatient"])
    services.delete_question(draft.questions.get(code="suggestion"))
    attitude = draft.questions.get(code="attitude")
    attitude.text = "您对护士的服务态度满意吗？"
    services.save_question(attitude)
    services.save_question(
        Question(version=draft, code="wait", text="您对办理出院的等候时间满意吗？", kind="rating")
    )
    services.move_question(draft.questions.get(code="wait"), -1)
    services.publish_version(draft)

    inpatient.refresh_from_db()
    assert inpatient.status == "retired"
    assert services.current_version("inpatient") == draft
    assert list(draft.questions.values_list("code", flat=True)) == [
        "attitude",
        "guidance",
        "skill",
        "ethics",
        "overall",
        "wait",
        "overall_reason",
    ]
    # The old response still shows the questions it answered, worded as they were.
    assert old_response.version == inpatient
    texts = dict(old_response.answers.values_list("question__code", "question__text"))
    assert texts["attitude"] == "您对住院期间医护人员的服务态度满意吗？"
    assert texts["suggestion"] == "您对我们还有什么意见或建议？"


def test_a_second_draft_is_refused_by_the_database_Q1(surveys):
    services.start_draft(surveys["outpatient"])
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireVersion.objects.create(questionnaire=surveys["outpatient"], number=9)


def test_an_empty_draft_cannot_be_published_Q1(db):
    questionnaire = services.create_questionnaire(code="er", name="急诊问卷", audience="outpatient")
    draft = questionnaire.versions.get()
    with pytest.raises(services.ServiceError, match="至少需要一道题目"):
        services.publish_version(draft)
    services.save_question(
        Question(
            version=draft, code="pick", text="您从哪里得知本院？", kind="single", options=["朋友"]
        )
    )
    with pytest.raises(services.ServiceError, match="至少需要两个选项"):
        services.publish_version(draft)
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert services.current_version("er") is None


def test_a_question_that_others_depend_on_cannot_be_deleted_Q1(surveys):
    draft = services.start_draft(surveys["inpatient"])
    with pytest.raises(services.ServiceError, match="显示条件"):
        services.delete_question(draft.questions.get(code="overall"))
    assert draft.questions.count() == 7


def test_discarding_a_draft_leaves_the_published_version_Q1(surveys, inpatient):
    draft = services.start_draft(surveys["inpatient"])
    services.discard_draft(draft)
    assert list(surveys["inpatient"].versions.values_list("number", "status")) == [(1, "published")]
    assert inpatient.questions.count() == 7


def test_two_rated_questions_of_one_dimension_cannot_be_published_Q3_R1(db):
    """One rating per dimension per follow-up: otherwise the monthly table (R1) would count one
    patient's 出院指导 twice."""
    questionnaire = services.create_questionnaire(
        code="guide", name="出院指导问卷", audience="inpatient"
    )
    draft = questionnaire.versions.get()
    for code, text in (("diet", "膳食指导满意吗？"), ("drugs", "服药指导满意吗？")):
        services.save_question(
            Question(version=draft, code=code, text=text, kind="rating", dimension="guidance")
        )
    with pytest.raises(services.ServiceError, match="每个维度只能有一道评价题"):
        services.publish_version(draft)
    Question.objects.filter(version=draft, code="drugs").update(dimension="")
    services.publish_version(draft)
    assert services.current_version("guide").pk == draft.pk
