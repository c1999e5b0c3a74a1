"""R3 test data: a hand-made October 2026 (and a September and an August task for the trend and
the quarter), written directly with the ORM so every expected number can be counted by hand.

Follow-up tasks (R5 attribution in brackets):

cardio  t1 completed 10-08 in window 10-05..10-11, phone; 很好/好/很好/好, 总评价 很好, opinion
        t2 completed 10-15 after window 10-05..10-11 (→ Oct, late), home visit; 一般/差/好/很好,
           总评价 一般, opinion of blanks only (not counted)
        t3 unreachable 10-16, window 10-10..10-16
        t4 due, window 10-01..10-07 (→ overdue)
        t5 excluded E4, window 10-03..10-09 (not due), discharged 10-02
        t6 cancelled, window in October (nowhere)
        t7 planned, window 10-30..11-05 (November), discharged 10-29
ortho   t8 completed 10-21 in window 10-20..10-26, phone; no questionnaire, record 总评价 好,
           discharged 10-13
        t9 completed 09-22 in window 09-20..09-26, phone, 总评价 很好, opinion (September)
        t10 completed 08-12 in window 08-10..08-16, phone, 总评价 差 (August)

October: due 5 (cardio 4, ortho 1), completed 3, unreachable 1, overdue 1, excluded 1, on time 2,
phone 2, home visit 1, discharges 3 (cardio 2, ortho 1); 回访率 60.00%, 回访成功率 75.00%,
及时率 66.67%, 满意率 (总评价 很好 1 / 好 1 / 一般 1) 66.67%.
"""

from __future__ import annotations

import datetime as dt

from careloop.followup.tests.uihelpers import make_policy, make_stage, make_task, make_visit

TZ = dt.timezone(dt.timedelta(hours=8))
D = dt.date.fromisoformat


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


class Month:
    def __init__(self, org, agent):
        from careloop.surveys.presets import ensure_presets
        from careloop.surveys.services import current_version

        ensure_presets()
        self.org, self.agent, self.n = org, agent, 0
        self.version = current_version("inpatient")
        self.questions = {q.code: q for q in self.version.questions.all()}
        self.stage = make_stage(make_policy(is_active=True), questionnaire="inpatient")

    def task(self, dept, start, end, *, discharged="2026-06-01 10:00", **extra):
        self.n += 1
        visit = make_visit(
            self.org[dept], patient_no=f"R{self.n:04d}", name=f"病人{self.n}",
            visit_no=f"ZY{self.n:04d}", discharged=at(discharged),
        )  # fmt: skip
        return make_task(self.stage, visit, start=D(start), end=D(end), **extra)

    def done(self, dept, start, end, completed, *, channel="phone", overall="", opinions="",
             ratings=None, **extra):  # fmt: skip
        from careloop.followup.models import FollowUpRecord
        from careloop.surveys.models import Answer, Response

        task = self.task(
            dept, start, end, status="completed", completed_at=at(completed), channel=channel,
            **extra,
        )  # fmt: skip
        if ratings:
            response = Response.objects.create(
                version=self.version, task=task, patient=task.patient,
                submitted_at=at(completed), submitted_by=self.agent,
            )  # fmt: skip
            for code, rating in ratings.items():
                q = self.questions[code]
                Answer.objects.create(
                    response=response, question=q, value=rating, rating=rating,
                    dimension=q.dimension,
                )  # fmt: skip
        FollowUpRecord.objects.create(
            task=task, condition="恢复良好", overall=overall, opinions=opinions, by=self.agent,
            at=at(completed),
        )  # fmt: skip
        return task


def category(code, name, parent=None):
    from careloop.cases.models import CaseCategory

    return CaseCategory.objects.create(code=code, name=name, parent=parent)


def case(kind, registered, *, cat=None, status="registered", due=None, replied=None, closed=None,
         agent=None):  # fmt: skip
    from careloop.cases.models import Case

    return Case.objects.create(
        kind=kind, source="hotline", category=cat, status=status, summary=f"{kind} {registered}",
        description="……", registered_at=at(registered), registered_by=agent,
        due_at=at(due) if due else None, replied_at=at(replied) if replied else None,
        closed_at=at(closed) if closed else None,
    )  # fmt: skip


def refollow(case_obj, *, done=None, outcome=""):
    from careloop.cases.models import CaseRefollow

    return CaseRefollow.objects.create(
        case=case_obj,
        status="done" if done else "due",
        outcome=outcome,
        done_at=at(done) if done else None,
    )


def build_october(org, agent) -> Month:
    m = Month(org, agent)
    good4 = {"attitude": "very_good", "guidance": "good", "skill": "very_good", "ethics": "good"}
    mixed = {"attitude": "fair", "guidance": "poor", "skill": "good", "ethics": "very_good"}
    m.done("cardio", "2026-10-05", "2026-10-11", "2026-10-08 10:00", overall="very_good",
           opinions="希望增加停车位", ratings={**good4, "overall": "very_good"})  # fmt: skip
    m.done("cardio", "2026-10-05", "2026-10-11", "2026-10-15 09:00", channel="home_visit",
           overall="fair", opinions="   ", ratings={**mixed, "overall": "fair"})  # fmt: skip
    m.task("cardio", "2026-10-10", "2026-10-16", status="unreachable",
           completed_at=at("2026-10-16 17:00"))  # fmt: skip
    m.task("cardio", "2026-10-01", "2026-10-07", status="due")
    m.task("cardio", "2026-10-03", "2026-10-09", status="excluded", exclusion="E4",
           discharged="2026-10-02 09:00")  # fmt: skip
    m.task("cardio", "2026-10-12", "2026-10-18", status="cancelled")
    m.task("cardio", "2026-10-30", "2026-11-05", status="planned", discharged="2026-10-29 09:00")
    m.done("ortho", "2026-10-20", "2026-10-26", "2026-10-21 15:00", overall="good",
           discharged="2026-10-13 09:00")  # fmt: skip
    m.done("ortho", "2026-09-20", "2026-09-26", "2026-09-22 10:00", overall="very_good",
           opinions="九月的意见")  # fmt: skip
    m.done("ortho", "2026-08-10", "2026-08-16", "2026-08-12 10:00", overall="poor")

    nurse_root = category("t-attitude", "服务态度")
    nurse = category("t-attitude-nurse", "护士", parent=nurse_root)
    env = category("t-environment", "就医环境")
    a = case("complaint", "2026-10-03 09:00", cat=nurse, status="closed", due="2026-10-10 09:00",
             replied="2026-10-08 10:00", closed="2026-10-09 10:00", agent=agent)  # fmt: skip
    b = case("complaint", "2026-10-05 09:00", cat=nurse, status="closed", due="2026-10-12 09:00",
             replied="2026-10-14 10:00", closed="2026-10-15 10:00", agent=agent)  # fmt: skip
    case("complaint", "2026-10-20 09:00", status="handling", due="2026-10-27 09:00")
    case("opinion", "2026-10-06 09:00", cat=env)
    case("suggestion", "2026-10-07 09:00", cat=env)
    case("suggestion", "2026-10-25 09:00", cat=env)
    case("praise", "2026-10-10 09:00", cat=env)
    sept = case("complaint", "2026-09-25 09:00", status="closed", due="2026-09-30 09:00",
                closed="2026-10-02 10:00")  # fmt: skip
    case("complaint", "2026-09-20 09:00", status="accepted")
    case("complaint", "2026-09-10 09:00", status="closed", closed="2026-11-03 10:00")
    case("opinion", "2026-11-02 09:00", cat=env)
    refollow(a, done="2026-10-12 10:00", outcome="satisfied")
    refollow(sept, done="2026-10-05 10:00", outcome="unsatisfied")
    refollow(b, done="2026-10-20 10:00", outcome="unreachable")
    refollow(b)  # still due: not counted
    return m
