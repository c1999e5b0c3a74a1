"""F1–F4: the seed policies as presets. Created after every migrate when missing; never
overwritten, so a hospital's edits survive upgrades. All start inactive."""

from __future__ import annotations

from django.db import transaction

INPATIENT, OUTPATIENT = ["inpatient"], ["outpatient"]

PRESETS = [
    {
        "slug": "kf-phone",
        "name": "客服部电话回访",
        "source": "seed 000《客服中心回访制度》一、四（F1）",
        "description": "住院病人出院后 7 天内电话回访；专科门诊初诊（非流失）病人就诊后 7 天、"
        "基础科室门诊初诊病人就诊后 10 天回访；目标回访率 100%；此后视病情需要由回访员预约再次回访。",
        "target_rate": 100,
        "stages": [
            {"code": "inpatient", "name": "出院病人电话回访", "visit_types": INPATIENT,
             "anchor": "discharge", "window_start_day": 7, "channel": "phone",
             "assignee_role": "agent_pool", "questionnaire": "inpatient", "script": "inpatient"},
            {"code": "specialist-first", "name": "专科门诊初诊回访", "visit_types": OUTPATIENT,
             "department_kinds": ["specialist"], "first_visit": True, "lost": False,
             "anchor": "visit", "window_start_day": 7, "channel": "phone",
             "assignee_role": "agent_pool", "questionnaire": "outpatient", "script": "outpatient"},
            {"code": "basic-first", "name": "基础科室门诊初诊回访", "visit_types": OUTPATIENT,
             "department_kinds": ["basic"], "first_visit": True, "lost": False,
             "anchor": "visit", "window_start_day": 10, "channel": "phone",
             "assignee_role": "agent_pool", "questionnaire": "outpatient", "script": "outpatient"},
        ],
    },
    {
        "slug": "discharge-nurse",
        "name": "出院病人回访",
        "source": "seed 003 出院病人回访制度（F2）",
        "description": "责任护士对所有出院病人于出院后 15–30 天内电话回访；特殊病人上门回访；"
        "科主任、护士长督导。",
        "target_rate": None,
        "stages": [
            {"code": "phone", "name": "责任护士电话回访", "visit_types": INPATIENT, "special": False,
             "anchor": "discharge", "window_start_day": 15, "window_end_day": 30,
             "channel": "phone", "assignee_role": "responsible_nurse",
             "questionnaire": "inpatient"},
            {"code": "home-visit", "name": "特殊病人上门回访", "visit_types": INPATIENT,
             "special": True, "anchor": "discharge", "window_start_day": 15,
             "window_end_day": 30, "channel": "home_visit", "assignee_role": "responsible_nurse",
             "questionnaire": "inpatient"},
        ],
    },
    {
        "slug": "doctor-7-90",
        "name": "主管医师回访",
        "source": "seed 003 主管医师回访制度（F3）",
        "description": "主管医师于出院后 7 天内电话回访，2–3 个月后再次回访；疑难、未确诊、慢病、"
        "老年、易再入院及费用超过一万元的病人必须回访；住院病人回访率不低于 70%"
        "（院内死亡病例不计）。",
        "target_rate": 70,
        "stages": [
            {"code": "first", "name": "出院 7 天内回访", "visit_types": INPATIENT,
             "anchor": "discharge", "window_start_day": 1, "window_end_day": 7,
             "channel": "phone", "assignee_role": "attending_doctor",
             "questionnaire": "inpatient"},
            {"code": "second", "name": "出院 2–3 个月再次回访", "visit_types": INPATIENT,
             "depends_on": "first", "anchor": "discharge", "window_start_day": 60,
             "window_end_day": 90, "channel": "phone", "assignee_role": "attending_doctor",
             "questionnaire": "inpatient"},
        ],
    },
    {
        "slug": "two-level",
        "name": "院科两级回访",
        "source": "seed 003 院科两级回访制度（F4）",
        "description": "客服部于出院后 5 天内回访；经治医生 15 天内回访，此后一个月再回访，"
        "之后每季度回访直至康复；康复后每半年或节假日发送问候短信。",
        "target_rate": None,
        "stages": [
            {"code": "service", "name": "客服部 5 天内回访", "visit_types": INPATIENT,
             "anchor": "discharge", "window_start_day": 1, "window_end_day": 5,
             "channel": "phone", "assignee_role": "agent_pool", "questionnaire": "inpatient",
             "script": "inpatient"},
            {"code": "doctor", "name": "经治医生 15 天内回访", "visit_types": INPATIENT,
             "anchor": "discharge", "window_start_day": 1, "window_end_day": 15,
             "channel": "phone", "assignee_role": "attending_doctor",
             "questionnaire": "inpatient"},
            {"code": "doctor-month", "name": "一个月后再回访", "visit_types": INPATIENT,
             "depends_on": "doctor", "anchor": "previous", "window_start_day": 30,
             "channel": "phone", "assignee_role": "attending_doctor",
             "questionnaire": "inpatient"},
            {"code": "quarterly", "name": "每季度回访直至康复", "visit_types": INPATIENT,
             "depends_on": "doctor-month", "anchor": "previous", "window_start_day": 90,
             "channel": "phone", "assignee_role": "attending_doctor", "repeat": "until_recovered",
             "repeat_every_days": 90, "questionnaire": "inpatient"},
            {"code": "greeting", "name": "康复后问候短信", "visit_types": INPATIENT,
             "after_recovery": True, "anchor": "previous", "window_start_day": 180,
             "channel": "sms", "assignee_role": "agent_pool", "repeat": "every",
             "repeat_every_days": 180, "repeat_max": 4},
        ],
    },
]  # fmt: skip


def ensure_presets(verbosity: int = 0) -> list[str]:
    """Create the preset policies that do not exist yet; return the slugs created."""
    from careloop.followup.models import Policy, Stage

    created = []
    for preset in PRESETS:
        if Policy.objects.filter(slug=preset["slug"]).exists():
            continue
        with transaction.atomic():
            policy = Policy.objects.create(
                slug=preset["slug"],
                name=preset["name"],
                source=preset["source"],
                description=preset["description"],
                target_rate=preset["target_rate"],
                is_preset=True,
                is_active=False,
            )
            by_code = {}
            for position, spec in enumerate(preset["stages"]):
                spec = dict(spec)
                depends = spec.pop("depends_on", None)
                stage = Stage(policy=policy, position=position, **spec)
                if depends:
                    stage.depends_on = by_code[depends]
                stage.full_clean()
                stage.save()
                by_code[stage.code] = stage
        created.append(policy.slug)
    return created


# F10: seed 000 二 (the call flow) and 十 (the standard phrases for inpatients and outpatients,
# and the answers for satisfied and dissatisfied patients).
_FLOW_TAIL = [
    ("small_talk", "寒暄", "{称呼}您最近身体怎么样？现在方便和您聊几分钟吗？"),
    ("recovery", "了解康复情况", "您出院/就诊以后恢复得怎么样？饮食、睡眠、伤口或症状有没有不舒服？"
     "有没有按医生的嘱咐按时服药？"),
    ("education", "健康宣教", "请您注意饮食规律、合理用药、适当锻炼，按时复查；有不舒服请及时来院。"),
    ("survey", "满意度调查", "想请您对我们的服务做个评价：服务态度、出院指导、技术水平、医德医风，"
     "分别是很好、好、一般还是差？您对我们还有什么意见或建议？"),
    ("information", "相关信息介绍", "如需咨询或预约复诊，可以拨打{医院}客服中心电话，我们会帮您联系专家。"),
]  # fmt: skip
SCRIPTS = [
    {
        "code": "inpatient",
        "name": "出院患者电话回访",
        "steps": [
            ("greeting", "礼貌问候", "您好！请问是{姓名}{称呼}吗？"),
            ("introduce", "自我介绍", "您好！我是{医院}客服中心的回访员{回访员}，您于{出院日期}从我院{科室}出院，"
             "今天打电话是想了解一下您的康复情况。"),
            *_FLOW_TAIL,
            ("thanks", "感谢", "谢谢您对我们医院的信任，祝您早日康复！再见！"),
            ("register", "登记回访信息", "挂机后请立即填写回访记录。"),
        ],
    },
    {
        "code": "outpatient",
        "name": "门诊患者电话回访",
        "steps": [
            ("greeting", "礼貌问候", "您好：请问是{姓名}{称呼}吗？"),
            ("introduce", "自我介绍", "您好！打扰了，我是{医院}客服中心的回访员{回访员}，您于{就诊日期}在我院"
             "{科室}就诊，今天想了解一下您的情况。"),
            *_FLOW_TAIL,
            ("thanks", "感谢", "非常感谢您的配合，谢谢您能给我们提出这些宝贵的意见，祝您身体健康！再见！"),
            ("register", "登记回访信息", "挂机后请立即填写回访记录。"),
        ],
    },
]  # fmt: skip
SATISFIED = (
    "非常感谢您对医院服务的认同，同时在以后的就诊中您有什么意见和建议，可以随时和我们客服沟通。"
)
DISSATISFIED = "很抱歉我们有些环节的服务令您不满意，我们会认真对待您所提的意见！"


def ensure_scripts() -> list[str]:
    """Create the default call scripts (F10) that do not exist yet; hospital edits survive."""
    from careloop.followup.models import CallScript

    created = []
    for spec in SCRIPTS:
        if CallScript.objects.filter(code=spec["code"]).exists():
            continue
        CallScript.objects.create(
            code=spec["code"],
            name=spec["name"],
            steps=[{"key": k, "title": t, "text": x} for k, t, x in spec["steps"]],
            satisfied_reply=SATISFIED,
            dissatisfied_reply=DISSATISFIED,
        )
        created.append(spec["code"])
    return created


def ensure_presets_after_migrate(sender, **kwargs):
    if sender.label == "followup":
        ensure_presets()
        ensure_scripts()
