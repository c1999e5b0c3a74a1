"""Q1 question kinds and ratings; statuses of questionnaire versions; response channels."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from careloop.followup.choices import Rating as _Rating


class Audience(models.TextChoices):
    INPATIENT = "inpatient", _("住院病人")
    OUTPATIENT = "outpatient", _("门诊病人")
    ANY = "any", _("不限")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


class QuestionKind(models.TextChoices):
    """Q1."""

    RATING = "rating", _("评价（很好/好/一般/差）")
    SINGLE = "single", _("单选")
    MULTIPLE = "multiple", _("多选")
    YES_NO = "yes_no", _("是/否")
    SCORE = "score", _("0–10 分")
    TEXT = "text", _("文字")


# Kinds whose answers are picked from ``Question.options``.
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


# Q1/Q3: the four-step rating of seed 003, best first — the same values the F9 record uses.
Rating = _Rating


class YesNo(models.TextChoices):
    YES = "yes", _("是")
    NO = "no", _("否")


class Dimension(models.TextChoices):
    """Q2: what a rating question measures; reports (Q3, R1) count ratings per dimension."""

    ATTITUDE = "attitude", _("服务态度")
    GUIDANCE = "guidance", _("出院指导")
    SKILL = "skill", _("技术水平")
    ETHICS = "ethics", _("医德医风")
    PROCESS = "process", _("就诊流程")
    ENVIRONMENT = "environment", _("就医环境")
    OVERALL = "overall", _("总评价")


class ResponseChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    SMS_LINK = "sms_link", _("短信链接（患者自填）")
    HOME_VISIT = "home_visit", _("上门")
    PAPER = "paper", _("纸质问卷")
    WECHAT = "wechat", _("微信")
    ONSITE = "onsite", _("现场")
