"""Q2: the default questionnaires, created after migrate when missing and published as version 1.

Never overwritten: a hospital's later versions survive upgrades. The inpatient questionnaire is
the 病人回访登记表 of seed 003: four rated dimensions (服务态度, 出院指导 — diet, medication,
re-check and rehabilitation asked as one rating so the dimension has one rating per response —
技术水平, 医德医风), 总评价, and 意见或建议.
"""

from __future__ import annotations

from django.db import transaction

WHY = {
    "code": "overall_reason",
    "text": "请问您对哪些方面不满意？",
    "kind": "text",
    "required": True,
    "condition": ("overall", ["poor"]),
    "help_text": "总评价为“差”时必答",
}
SUGGESTION = {
    "code": "suggestion",
    "text": "您对我们还有什么意见或建议？",
    "kind": "text",
    "required": False,
}

PRESETS = [
    {
        "code": "inpatient",
        "name": "出院病人满意度调查",
        "audience": "inpatient",
        "description": "seed 003《病人回访登记表》：服务态度、出院指导（膳食、服药、复诊、康复）、"
        "技术水平、医德医风，总评价及意见或建议（Q2）。",
        "questions": [
            {"code": "attitude", "text": "您对住院期间医护人员的服务态度满意吗？",
             "kind": "rating", "dimension": "attitude"},
            {"code": "guidance", "text": "您对出院指导（膳食、服药、复诊、康复）满意吗？",
             "kind": "rating", "dimension": "guidance",
             "help_text": "包括饮食营养、服药方法、复诊时间和康复训练的指导"},
            {"code": "skill", "text": "您对医护人员的诊疗技术水平满意吗？",
             "kind": "rating", "dimension": "skill"},
            {"code": "ethics", "text": "您对医护人员的医德医风满意吗？",
             "kind": "rating", "dimension": "ethics"},
            {"code": "overall", "text": "总的来说，您对这次住院满意吗？",
             "kind": "rating", "dimension": "overall"},
            WHY,
            SUGGESTION,
        ],
    },
    {
        "code": "outpatient",
        "name": "门诊病人满意度调查",
        "audience": "outpatient",
        "description": "门诊初诊病人回访：服务态度、就诊流程与等候时间、技术水平，总评价及意见或建议。",
        "questions": [
            {"code": "attitude", "text": "您对门诊医护人员的服务态度满意吗？",
             "kind": "rating", "dimension": "attitude"},
            {"code": "process", "text": "您对就诊流程和等候时间满意吗？",
             "kind": "rating", "dimension": "process"},
            {"code": "skill", "text": "您对医生的诊疗技术水平满意吗？",
             "kind": "rating", "dimension": "skill"},
            {"code": "overall", "text": "总的来说，您对这次就诊满意吗？",
             "kind": "rating", "dimension": "overall"},
            WHY,
            SUGGESTION,
        ],
    },
]  # fmt: skip


def ensure_presets() -> list[str]:
    """Create the preset questionnaires that do not exist yet; return the codes created."""
    from careloop.surveys.models import Question, Questionnaire, QuestionnaireVersion
    from careloop.surveys.services import publish_version

    created = []
    for preset in PRESETS:
        if Questionnaire.objects.filter(code=preset["code"]).exists():
            continue
        with transaction.atomic():
            questionnaire = Questionnaire.objects.create(
                code=preset["code"],
                name=preset["name"],
                audience=preset["audience"],
                description=preset["description"],
                is_preset=True,
            )
            version = QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=1)
            by_code = {}
            for position, spec in enumerate(preset["questions"]):
                spec = dict(spec)
                condition = spec.pop("condition", None)
                question = Question(version=version, position=position, **spec)
                if condition:
                    question.condition_question = by_code[condition[0]]
                    question.condition_values = list(condition[1])
                question.full_clean()
                question.save()
                by_code[question.code] = question
            publish_version(version)
        created.append(questionnaire.code)
    return created


def ensure_presets_after_migrate(sender, **kwargs):
    if sender.label == "surveys":
        ensure_presets()
