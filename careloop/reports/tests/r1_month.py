"""A hand-built October 2026 for the R1 tests (page, drill-down, Excel, PDF): a few tasks in
cardiology and orthopaedics whose every number is worked out by hand below.

Cardiology (心血管内科病区), today 2026-11-05:
  c1 completed by phone 10-10, window 10-05..10-11 (on time), ratings vg/g/vg/g, 总评价 很好
  c2 completed by phone 10-20, window 10-08..10-14 (late: counts in October, by its window)
     ratings g/一般/g/vg, 总评价 好
  c3 completed by home visit 10-15, window 10-12..10-18, ratings 差/g/g/g, 总评价 一般
  c4 unreachable 10-25, window 10-20..10-26
  c5 open, window 10-01..10-07 → overdue (due, not done)
  c6 excluded (E4, died in hospital), window 10-03..10-09 → not due
  c7 cancelled, window 10-05..10-11 → nowhere
  c8 open, window 11-04..11-10 → not October (its visit was discharged 10-28)
  c9 completed by phone 10-02, window 10-01..10-07 (on time), no questionnaire, 总评价 好;
     its visit was discharged 09-28 (not an October discharge)
  → 出院人数 8 (c1–c8), 回访人数 4, 应访 6, 回访率 66.67%, 电话 3 (75.00%), 上门 1 (25.00%),
    失访 1, 不予回访 1, 回访成功率 80.00%, 及时率 75.00%, 满意率 75.00% (vg1 g2 一般1),
    服务态度 1/1/0/1 66.67%, 出院指导 0/2/1/0 66.67%, 技术水平 1/2/0/0 100.00%,
    医德医风 1/2/0/0 100.00%.
Orthopaedics (骨科病区):
  o1 completed by phone 10-12, window 10-10..10-16, all 很好, 总评价 很好
  o2 open, window 10-15..10-21 → overdue
  → 出院人数 2, 回访人数 1, 应访 2, 回访率 50.00%, 电话 1 (100.00%), 上门 0 (0.00%),
    满意率 100.00%, each dimension 1/0/0/0 100.00%.
合计: 出院人数 10, 回访人数 5, 应访 8, 回访率 62.50%, 电话 4 (80.00%), 上门 1 (20.00%),
  满意率 80.00%, 服务态度 2/1/0/1 75.00%, 出院指导 1/2/1/0 75.00%, 技术水平 2/2/0/0 100.00%,
  医德医风 2/2/0/0 100.00%, 失访 1, 不予回访 1, 回访成功率 83.33%, 及时率 80.00%.
"""

from __future__ import annotations

import datetime as dt

from careloop.cases.tests.conftest import at

TODAY = dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DIMS = ("attitude", "guidance", "skill", "ethics")
VG, G, F, P = "very_good", "good", "fair", "poor"


def _answers(task, ratings: dict[str, str], by):
    from careloop.surveys.models import Answer, Response
    from careloop.surveys.presets import ensure_presets
    from careloop.surveys.services import current_version

    ensure_presets()
    version = current_version("inpatient")
    response = Response.objects.create(
        version=version, task=task, patient=task.patient, channel="phone", submitted_by=by,
        submitted_at=task.completed_at,
    )  # fmt: skip
    questions = {q.code: q for q in version.questions.all()}
    for code, rating in ratings.items():
        q = questions[code]
        Answer.objects.create(
            response=response, question=q, value=rating, rating=rating, dimension=q.dimension
        )


def build_month(org, agent) -> dict:
    """The tasks above; returns them by name."""
    from careloop.followup.models import FollowUpRecord
    from careloop.followup.tests.uihelpers import make_policy, make_stage, make_task, make_visit

    stage = make_stage(make_policy(slug="r1-policy", name="出院回访", is_active=True))
    tasks, n = {}, [0]

    def task(name, dept, discharged, start, end, status, *, done=None, channel="phone", **extra):
        n[0] += 1
        visit = make_visit(
            org[dept], patient_no=f"R1{n[0]:03d}", name=f"测试患者{n[0]}",
            visit_no=f"ZY1{n[0]:03d}", discharged=at(discharged),
        )  # fmt: skip
        fields = {"status": status, "channel": channel, **extra}
        if done:
            fields.update(completed_at=at(done), assignee=agent)
        tasks[name] = make_task(stage, visit, start=start, end=end, **fields)
        return tasks[name]

    def complete(name, overall, ratings=None):
        t = tasks[name]
        FollowUpRecord.objects.create(task=t, overall=overall, by=agent, at=t.completed_at)
        if ratings:
            _answers(t, dict(zip(DIMS, ratings, strict=True)) | {"overall": overall}, agent)

    d = dt.date
    task("c1", "cardio", "2026-10-01 10:00", d(2026, 10, 5), d(2026, 10, 11), "completed",
         done="2026-10-10 10:00")  # fmt: skip
    complete("c1", VG, (VG, G, VG, G))
    task("c2", "cardio", "2026-10-02 10:00", d(2026, 10, 8), d(2026, 10, 14), "completed",
         done="2026-10-20 10:00")  # fmt: skip
    complete("c2", G, (G, F, G, VG))
    task("c3", "cardio", "2026-10-05 10:00", d(2026, 10, 12), d(2026, 10, 18), "completed",
         done="2026-10-15 10:00", channel="home_visit")  # fmt: skip
    complete("c3", F, (P, G, G, G))
    task("c4", "cardio", "2026-10-12 10:00", d(2026, 10, 20), d(2026, 10, 26), "unreachable",
         done="2026-10-25 16:00")  # fmt: skip
    task("c5", "cardio", "2026-10-01 08:00", d(2026, 10, 1), d(2026, 10, 7), "due")
    task("c6", "cardio", "2026-10-02 08:00", d(2026, 10, 3), d(2026, 10, 9), "excluded",
         exclusion="E4")  # fmt: skip
    task("c7", "cardio", "2026-10-03 08:00", d(2026, 10, 5), d(2026, 10, 11), "cancelled")
    task("c8", "cardio", "2026-10-28 08:00", d(2026, 11, 4), d(2026, 11, 10), "due")
    task("c9", "cardio", "2026-09-28 08:00", d(2026, 10, 1), d(2026, 10, 7), "completed",
         done="2026-10-02 10:00")  # fmt: skip
    complete("c9", G)
    task("o1", "ortho", "2026-10-04 10:00", d(2026, 10, 10), d(2026, 10, 16), "completed",
         done="2026-10-12 11:00")  # fmt: skip
    complete("o1", VG, (VG, VG, VG, VG))
    task("o2", "ortho", "2026-10-08 10:00", d(2026, 10, 15), d(2026, 10, 21), "due")
    return tasks


# The paper's cells, in column order after 科室, as the screen / Excel / PDF write them.
CARDIO = [8, 4, "66.67%", "3（75.00%）", "1（25.00%）", "75.00%",
          1, 1, 0, 1, "66.67%", 0, 2, 1, 0, "66.67%", 1, 2, 0, 0, "100.00%",
          1, 2, 0, 0, "100.00%"]  # fmt: skip
ORTHO = [2, 1, "50.00%", "1（100.00%）", "0（0.00%）", "100.00%",
         1, 0, 0, 0, "100.00%", 1, 0, 0, 0, "100.00%", 1, 0, 0, 0, "100.00%",
         1, 0, 0, 0, "100.00%"]  # fmt: skip
TOTAL = [10, 5, "62.50%", "4（80.00%）", "1（20.00%）", "80.00%",
         2, 1, 0, 1, "75.00%", 1, 2, 1, 0, "75.00%", 2, 2, 0, 0, "100.00%",
         2, 2, 0, 0, "100.00%"]  # fmt: skip
# 应访, 失访, 不予回访, 回访成功率, 及时率 (screen only)
CARDIO_EXTRA = [6, 1, 1, "80.00%", "75.00%"]
ORTHO_EXTRA = [2, 0, 0, "100.00%", "100.00%"]
TOTAL_EXTRA = [8, 1, 1, "83.33%", "80.00%"]
