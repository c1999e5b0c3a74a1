"""Follow-ups already done in the demo hospital (issue 7), so that the statistics, the ranking
and the dashboards show real numbers: most tasks whose window has passed are completed through
the workspace's own services (claim, record, questionnaire), on a day inside their window, with
ratings that differ by department (two wards rate clearly lower, so the ranking has a bottom).
The rest stay overdue, as they would in a real hospital. Built once: when follow-ups have been
recorded beyond the loop's examples the demo leaves history alone.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from careloop.accounts.models import User
from careloop.followup import calls
from careloop.followup.choices import OPEN_STATUSES, Channel, Rating
from careloop.followup.models import FollowUpRecord, FollowUpTask

# Wards whose patients are less pleased in the demo (ratings drawn from the weaker mix).
WEAKER = ("HXK", "PWK")
MIX = {
    "usual": ((Rating.VERY_GOOD, 55), (Rating.GOOD, 33), (Rating.FAIR, 10), (Rating.POOR, 2)),
    "weaker": ((Rating.VERY_GOOD, 30), (Rating.GOOD, 35), (Rating.FAIR, 25), (Rating.POOR, 10)),
}
DONE_SHARE = 0.85
CONDITIONS = ["恢复良好，饮食睡眠正常", "伤口愈合好，已能下床活动", "偶有胸闷，已按时复诊",
              "血压控制平稳", "仍有轻度乏力，按医嘱服药"]  # fmt: skip
OPINIONS = ["", "", "", "希望出院结算更快一些", "病房晚上有点吵", "护士讲解很耐心，谢谢"]


def _pick(rng: random.Random, mix) -> str:
    values, weights = zip(*mix, strict=True)
    return rng.choices(values, weights=weights)[0]


def build_history(seed: int = 2026) -> dict:
    if FollowUpRecord.objects.count() > 10:
        return {"completed": 0, "months": 0}
    from careloop.surveys.forms import ResponseForm
    from careloop.surveys.services import current_version, questionnaire_code_for

    rng = random.Random(seed + 7)
    today = timezone.localdate()
    agent = User.objects.get(username="agent1")
    past = (
        FollowUpTask.objects.filter(
            status__in=OPEN_STATUSES, window_end__lt=today, channel=Channel.PHONE
        )
        .select_related("department", "assignee", "visit")
        .order_by("window_start", "pk")
    )
    completed = 0
    for task in past:
        if rng.random() > DONE_SHARE:
            continue
        by = task.assignee or agent
        last = min(task.window_end, today - dt.timedelta(days=1))
        span = max((last - task.window_start).days, 0)
        day = task.window_start + dt.timedelta(days=rng.randint(0, span))
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(10, rng.randint(0, 59))))
        mix = MIX["weaker" if task.department.code in WEAKER else "usual"]
        ratings = {
            dim: _pick(rng, mix) for dim in ("attitude", "guidance", "skill", "ethics", "process")
        }
        overall = _pick(rng, mix)
        with transaction.atomic():
            task = calls.claim_task(task, by=by)
            version = current_version(questionnaire_code_for(task))
            if version is not None:
                data = {f"q-{code}": value for code, value in ratings.items()}
                data["q-overall"] = overall
                if overall == Rating.POOR:
                    data["q-overall_reason"] = "等候时间太长，解释不够"
                form = ResponseForm(version, data=data)
                if form.is_valid():
                    form.save(task=task, by=by)
            calls.complete_followup(
                task,
                by=by,
                at=at,
                record={
                    "condition": rng.choice(CONDITIONS),
                    "opinions": rng.choice(OPINIONS),
                    "overall": overall,
                },
            )
        completed += 1
    # Close the past months and write the leadership summaries as the nightly job would.
    # (Loaded by name: no app imports reports.)
    job = import_string("careloop.reports.jobs.monthly_summaries")
    made = job(today=today)
    return {"completed": completed, "months": len(made["generated"])}
