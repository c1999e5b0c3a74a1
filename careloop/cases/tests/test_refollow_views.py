"""C3 loop closure through the pages: the re-follow-up list (mine / all due / done), recording the
patient's answer (not satisfied reopens the case to 处理), the loop-closure figure, and the O3
scope of both."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from careloop.accounts.roles import Role
from careloop.cases import services
from careloop.cases.choices import CaseEventKind, CaseStatus, Finding, RefollowStatus
from careloop.cases.models import Case, CaseEvent, CaseRefollow
from careloop.cases.presets import ensure_case_presets
from careloop.followup.tests.uihelpers import client_for

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))
CLOSED_AT = dt.datetime(2026, 4, 1, 10, 0, tzinfo=TZ)  # a Wednesday before Qingming
CALLED_AT = dt.datetime(2026, 4, 2, 9, 30, tzinfo=TZ)


@pytest.fixture
def people(personas, org, make_user):
    ensure_case_presets()
    return {
        **personas,
        "supervisor": make_user(
            "supervisor", Role.SUPERVISOR, departments=[org["service"]], full_name="周主管"
        ),
    }


def closed_case(by, org, *, department="cardio", summary="候诊时间太长", registrar=None):
    """A complaint registered by ``registrar`` (who gets the re-follow-up) and closed by ``by``."""
    with time_machine.travel(CLOSED_AT - dt.timedelta(days=2), tick=False):
        case = services.register_case(
            by=registrar or by, kind="complaint", source="hotline", summary=summary,
            description="上午挂号后等了三个小时。", contact_name="李四",
            contact_phone="13900001111", departments=[org[department]],
        )  # fmt: skip
    with time_machine.travel(CLOSED_AT, tick=False):
        services.advance_case(
            case, CaseStatus.CLOSED, by=by, finding=Finding.PARTLY, responsible_person="挂号处",
            measure="增开窗口", reply="已增开挂号窗口，向您致歉。",
        )  # fmt: skip
    return Case.objects.get(pk=case.pk)


def refollow_of(case) -> CaseRefollow:
    return CaseRefollow.objects.get(case=case)


def test_list_defaults_to_my_due_refollows_C3(people, org):
    supervisor, agent = people["supervisor"], people["agent"]
    mine = closed_case(supervisor, org, summary="我的回访")
    other = closed_case(supervisor, org, summary="别人的回访", registrar=agent)
    client = client_for(supervisor)
    with time_machine.travel(CALLED_AT, tick=False):
        page = client.get("/cases/refollows/")
        assert [r.case_id for r in page.context["rows"]] == [mine.pk]
        html = page.content.decode()
        assert "我的回访" in html and "别人的回访" not in html
        assert "2026-04-07 10:00" in html  # 3 working days across Qingming (4–6 April)
        due = client.get("/cases/refollows/?tab=due")
        assert [r.case_id for r in due.context["rows"]] == [mine.pk, other.pk]
        assert [(k, n) for k, _label, n in due.context["tabs"]] == [
            ("mine", 1),
            ("due", 2),
            ("done", 0),
        ]
        assert "闭环满意率：暂无（尚未回访到患者）" in due.content.decode()


def test_refollow_unsatisfied_reopens_the_case_to_handling_C3(people, org):
    supervisor = people["supervisor"]
    case = closed_case(supervisor, org)
    refollow = refollow_of(case)
    client = client_for(supervisor)
    with time_machine.travel(CALLED_AT, tick=False):
        response = client.post(
            f"/cases/refollows/{refollow.pk}/record/",
            {f"r{refollow.pk}-outcome": "unsatisfied", f"r{refollow.pk}-note": "窗口还是太少"},
        )
        assert response.status_code == 302 and response["Location"] == "/cases/refollows/"
        page = client.get(response["Location"]).content.decode()
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.HANDLING
    assert (case.closed_at, case.closed_by_id, case.replied_at) == (None, None, None)
    # A new reply clock from the patient's answer: 7 calendar days.
    assert case.due_at == dt.datetime(2026, 4, 9, 9, 30, tzinfo=TZ)
    refollow.refresh_from_db()
    assert (refollow.status, refollow.outcome, refollow.note, refollow.done_by_id) == (
        RefollowStatus.DONE, "unsatisfied", "窗口还是太少", supervisor.pk,
    )  # fmt: skip
    assert refollow.done_at == CALLED_AT
    reopened = CaseEvent.objects.get(case=case, kind=CaseEventKind.REOPENED)
    assert (reopened.from_status, reopened.to_status) == ("closed", "handling")
    assert (
        f"患者不满意：案件 {case.number} 已重新进入“处理”，新的答复期限 2026-04-09 09:30。" in page
    )
    assert "闭环满意率 0.0%（0/1）" in page
    # The case page offers the handling steps again.
    with time_machine.travel(CALLED_AT, tick=False):
        detail = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'action="/cases/{case.pk}/advance/replied/"' in detail
    assert "结案回访：不满意。窗口还是太少" in detail


def test_refollow_satisfied_keeps_the_case_closed_and_counts_C3(people, org):
    supervisor = people["supervisor"]
    cases = [closed_case(supervisor, org, summary=f"投诉{i}") for i in range(4)]
    outcomes = ["satisfied", "satisfied", "unsatisfied", "unreachable"]
    client = client_for(supervisor)
    with time_machine.travel(CALLED_AT, tick=False):
        for case, outcome in zip(cases, outcomes, strict=True):
            refollow = refollow_of(case)
            response = client.post(
                f"/cases/refollows/{refollow.pk}/record/", {f"r{refollow.pk}-outcome": outcome}
            )
            assert response.status_code == 302
        page = client.get("/cases/refollows/?tab=done")
    assert [Case.objects.get(pk=c.pk).status for c in cases] == [
        "closed", "closed", "handling", "closed",
    ]  # fmt: skip
    html = page.content.decode()
    # Loop closure = satisfied / reached (联系不上 is not counted).
    assert "闭环满意率 66.7%（2/3）" in html
    assert page.context["closure"] == {
        "satisfied": 2,
        "refollowed": 3,
        "rate": Decimal("66.7"),
    }
    assert len(page.context["rows"]) == 4


def test_recording_from_the_case_page_returns_there(people, org):
    supervisor = people["supervisor"]
    case = closed_case(supervisor, org)
    refollow = refollow_of(case)
    client = client_for(supervisor)
    with time_machine.travel(CALLED_AT, tick=False):
        page = client.get(f"/cases/{case.pk}/").content.decode()
        assert f'action="/cases/refollows/{refollow.pk}/record/"' in page
        response = client.post(
            f"/cases/refollows/{refollow.pk}/record/",
            {f"r{refollow.pk}-outcome": "satisfied", "from": "case",
             "next": f"/cases/{case.pk}/"},
        )  # fmt: skip
    assert response["Location"] == f"/cases/{case.pk}/"
    assert refollow_of(case).outcome == "satisfied"


def test_missing_outcome_is_refused_and_nothing_changes(people, org):
    supervisor = people["supervisor"]
    case = closed_case(supervisor, org)
    refollow = refollow_of(case)
    response = client_for(supervisor).post(
        f"/cases/refollows/{refollow.pk}/record/", {f"r{refollow.pk}-note": "没说"}
    )
    assert response.status_code == 400
    assert "请选择患者是否满意" in response.content.decode()
    refollow.refresh_from_db()
    assert (refollow.status, refollow.outcome) == (RefollowStatus.DUE, "")
    assert status_of(case) == CaseStatus.CLOSED


def test_a_second_record_is_refused(people, org):
    supervisor = people["supervisor"]
    case = closed_case(supervisor, org)
    refollow = refollow_of(case)
    client = client_for(supervisor)
    data = {f"r{refollow.pk}-outcome": "satisfied"}
    assert client.post(f"/cases/refollows/{refollow.pk}/record/", data).status_code == 302
    again = client.post(
        f"/cases/refollows/{refollow.pk}/record/", {f"r{refollow.pk}-outcome": "unsatisfied"}
    )
    assert again.status_code == 400
    assert "该结案回访已完成" in again.content.decode()
    assert refollow_of(case).outcome == "satisfied"
    assert status_of(case) == CaseStatus.CLOSED


def test_wrong_persona_cannot_see_or_record_O3(people, org):
    supervisor = people["supervisor"]
    case = closed_case(supervisor, org)
    refollow = refollow_of(case)
    ortho = client_for(people["ortho_nurse"])
    listing = ortho.get("/cases/refollows/?tab=due")
    assert listing.context["rows"] == []
    response = ortho.post(
        f"/cases/refollows/{refollow.pk}/record/", {f"r{refollow.pk}-outcome": "unsatisfied"}
    )
    assert response.status_code == 404
    refollow.refresh_from_db()
    assert (refollow.status, refollow.outcome) == (RefollowStatus.DUE, "")
    assert status_of(case) == CaseStatus.CLOSED
    # The cardiology nurse sees it and may record it.
    cardio = client_for(people["cardio_nurse"]).get("/cases/refollows/?tab=due")
    assert [r.pk for r in cardio.context["rows"]] == [refollow.pk]
    # Leadership reads aggregates only: no re-follow-up page.
    assert client_for(people["leader"]).get("/cases/refollows/").status_code == 403


def status_of(case) -> str:
    return Case.objects.get(pk=case.pk).status
