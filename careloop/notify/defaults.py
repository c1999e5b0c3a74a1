"""The default SMS and letter templates, created after migrate when missing and never
overwritten (a hospital's edits survive upgrades)."""

from __future__ import annotations

SMS_TEMPLATES = [
    (
        "followup-greeting",
        "回访问候",
        "{患者姓名}{称呼}您好，我是{医院}{科室}的回访人员。感谢您对我们的信任，"
        "请注意按医嘱服药、定期复查，如有不适请及时就诊。祝您早日康复！回复TD退订",
    ),
    (
        "survey-link",
        "满意度问卷链接",
        "{患者姓名}{称呼}您好，感谢您在{医院}就诊。为改进我们的服务，"
        "请点击 {链接} 填写满意度问卷，回复TD退订",
    ),
    (
        "followup-missed",
        "未接通提醒",
        "{患者姓名}{称呼}您好，{医院}{科室}今天致电对您进行出院回访，未能接通。"
        "如方便，请致电医院客服中心与我们联系。祝您身体健康！回复TD退订",
    ),
    (
        "recovery-greeting",
        "康复后节日问候",
        "{患者姓名}{称呼}您好，{医院}全体医护人员祝您节日快乐、身体健康！"
        "如有需要，欢迎随时与我们联系。回复TD退订",
    ),
]

LETTER_TEMPLATES = [
    (
        "followup-letter",
        "出院回访信",
        "尊敬的{患者姓名}{称呼}：\n\n"
        "您好！感谢您于{出院日期}在{医院}{科室}住院治疗期间对我们的信任与支持。"
        "为了解您出院后的康复情况，并听取您对我们工作的意见和建议，特致此函。\n\n"
        "请您按医嘱按时服药、合理饮食、适当锻炼，并定期到医院复查。如有不适，请及时就诊。\n\n"
        "如您对我院的医疗服务有任何意见或建议，欢迎来电或来信告诉我们，我们将认真改进。\n\n"
        "祝您早日康复，身体健康！",
    ),
]

# F4's greeting stage and any stage without its own SMS template.
DEFAULT_STAGE_TEMPLATE = "followup-greeting"
RECOVERY_TEMPLATE = "recovery-greeting"
DEFAULT_LETTER_TEMPLATE = "followup-letter"


def ensure_templates() -> list[str]:
    from careloop.notify.models import LetterTemplate, SmsTemplate

    created = []
    for model, rows in ((SmsTemplate, SMS_TEMPLATES), (LetterTemplate, LETTER_TEMPLATES)):
        existing = set(model.objects.values_list("code", flat=True))
        for code, name, body in rows:
            if code not in existing:
                model.objects.create(code=code, name=name, body=body)
                created.append(code)
    return created


def ensure_templates_after_migrate(sender, **kwargs):
    if sender.label == "notify":
        ensure_templates()
