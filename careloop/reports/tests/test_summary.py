"""R3: the leadership summary of a hand-made month — every count and rate, satisfaction by
dimension, cases by category, complaints and their closure — its PDF and Excel, and the pages:
whole-hospital roles only, downloads audited, no patient identity."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET

import pytest
import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader

from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.followup.tests.uihelpers import client_for
from careloop.reports import periods
from careloop.reports.models import MonthlySnapshot, Summary
from careloop.reports.summary import SummaryError, build, generate
from careloop.reports.tests.summary_month import build_october

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 4)
OCTOBER = periods.month(2026, 10)


@pytest.fixture
def people(personas, org, make_user):
    from careloop.accounts.roles import Role

    return {
        **personas,
        "supervisor": make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]]),
        "nursing": make_user("nursing", Role.NURSING_DEPT),
    }


@pytest.fixture
def month(org, people):
    with time_machine.travel(dt.datetime(2026, 11, 4, 9, 0, tzinfo=dt.UTC), tick=False):
        build_october(org, people["agent"])
        yield


@pytest.fixture
def frozen():
    with time_machine.travel(dt.datetime(2026, 11, 4, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


def pdf_text(content: bytes) -> str:
    return "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages)


def test_month_figures_and_rates_are_exact_R3_R5(month):
    data = build(OCTOBER, today=TODAY)
    f = data["figures"]
    assert (f["due"], f["completed"], f["unreachable"], f["overdue"], f["excluded"]) == (
        5, 3, 1, 1, 1,
    )  # fmt: skip
    assert (f["on_time"], f["phone"], f["home_visit"], f["discharges"]) == (2, 2, 1, 3)
    assert data["rates"] == {
        "followup": "60.00",
        "contact_success": "75.00",
        "on_time": "66.67",
        "satisfaction": "66.67",
        "phone": "66.67",
        "home_visit": "33.33",
    }
    assert (data["label"], data["key"], data["start"], data["last"]) == (
        "2026年10月", "2026-10", "2026-10-01", "2026-10-31",
    )  # fmt: skip


def test_satisfaction_by_dimension_R3_Q3(month):
    dims = {d["key"]: d for d in build(OCTOBER, today=TODAY)["dimensions"]}
    assert list(dims) == ["attitude", "guidance", "skill", "ethics", "overall"]
    assert dims["attitude"]["counts"] == {"very_good": 1, "good": 0, "fair": 1, "poor": 0}
    assert dims["attitude"]["rate"] == "50.00"
    assert dims["guidance"]["counts"] == {"very_good": 0, "good": 1, "fair": 0, "poor": 1}
    assert dims["guidance"]["rate"] == "50.00"
    assert dims["skill"]["rate"] == "100.00" and dims["ethics"]["rate"] == "100.00"
    assert dims["overall"]["counts"] == {"very_good": 1, "good": 1, "fair": 1, "poor": 0}
    assert (dims["overall"]["total"], dims["overall"]["rate"]) == (3, "66.67")
    assert dims["attitude"]["label"] == "服务态度" and dims["overall"]["label"] == "总评价"


def test_departments_side_by_side_R3(month, org):
    rows = build(OCTOBER, today=TODAY)["departments"]
    assert [r["name"] for r in rows] == ["骨科病区", "心血管内科病区"]  # hospital order (code)
    ortho, cardio = rows
    assert (cardio["discharges"], cardio["due"], cardio["completed"], cardio["unreachable"]) == (
        2, 4, 2, 1,
    )  # fmt: skip
    assert (cardio["followup_rate"], cardio["contact_success_rate"]) == ("50.00", "66.67")
    assert (cardio["on_time_rate"], cardio["satisfaction"], cardio["rated"]) == (
        "50.00",
        "50.00",
        2,
    )
    assert (ortho["discharges"], ortho["due"], ortho["completed"], ortho["satisfaction"]) == (
        1, 1, 1, "100.00",
    )  # fmt: skip


def test_trend_is_twelve_months_from_the_snapshots_R3(month):
    data = build(OCTOBER, today=TODAY)
    trend = data["trend"]
    assert [m["key"] for m in trend] == [f"2025-{m}" for m in (11, 12)] + [
        f"2026-{m:02d}" for m in range(1, 11)
    ]
    assert len(trend) == 12
    by = {m["key"]: m for m in trend}
    assert (by["2026-10"]["due"], by["2026-10"]["completed"]) == (5, 3)
    assert (by["2026-10"]["followup_rate"], by["2026-10"]["satisfaction"]) == ("60.00", "66.67")
    assert (by["2026-09"]["completed"], by["2026-09"]["satisfaction"]) == (1, "100.00")
    assert (by["2026-08"]["completed"], by["2026-08"]["satisfaction"]) == (1, "0.00")
    assert by["2026-07"] == {**by["2026-07"], "due": 0, "followup_rate": None, "satisfaction": None}
    # The closed months were snapshotted (the numbers leadership reads are the kept ones).
    assert MonthlySnapshot.objects.filter(month=dt.date(2026, 10, 1)).count() == 2


def test_opinions_and_suggestions_grouped_by_category_R3_C2(month):
    fb = build(OCTOBER, today=TODAY)["feedback"]
    assert fb["categories"] == [
        {"name": "就医环境", "complaint": 0, "opinion": 1, "suggestion": 2, "total": 3},
        {"name": "服务态度 › 护士", "complaint": 2, "opinion": 0, "suggestion": 0, "total": 2},
        {"name": "未分类", "complaint": 1, "opinion": 0, "suggestion": 0, "total": 1},
    ]
    assert fb["totals"] == {"complaint": 3, "opinion": 1, "suggestion": 2, "total": 6}
    # Records of October's follow-ups with a non-blank 意见或建议 (blanks only do not count).
    assert fb["record_opinions"] == 1


def test_complaints_and_loop_closure_R3_C3(month):
    assert build(OCTOBER, today=TODAY)["complaints"] == {
        "registered": 3,
        "closed": 3,
        "closed_on_time": 1,
        "open": 3,
        "refollowed": 2,
        "satisfied": 1,
        "loop_closure": "50.0",
    }


def test_quarter_is_the_sum_of_its_months_R3(month):
    data = build(periods.quarter(2026, 3), today=TODAY)
    assert (data["key"], data["label"]) == ("2026-Q3", "2026年第3季度")
    f = data["figures"]
    assert (f["due"], f["completed"], f["phone"]) == (2, 2, 2)
    assert data["rates"]["satisfaction"] == "50.00"  # 很好 (Sep) + 差 (Aug)
    assert data["trend"][-1]["key"] == "2026-09"
    assert data["complaints"]["registered"] == 3  # the three of September
    assert [r["name"] for r in data["departments"]] == ["骨科病区"]


def test_a_period_not_yet_over_is_refused_R3(month):
    with pytest.raises(SummaryError, match="尚未结束"):
        build(periods.month(2026, 11), today=TODAY)


def test_generate_keeps_pdf_and_excel_and_replaces_on_regenerate_R3(month, people):
    first = generate(OCTOBER, "month", today=TODAY)
    assert (first.kind, first.period_key) == ("month", "2026-10")
    assert (first.period_start, first.period_end) == (dt.date(2026, 10, 1), dt.date(2026, 11, 1))
    text = pdf_text(bytes(first.pdf))
    assert "患者回访领导汇总报告" in text and "2026年10月" in text
    assert "60.00%" in text and "66.67%" in text and "骨科病区" in text and "就医环境" in text
    # No patient identity on the leadership's paper.
    assert "病人1" not in text and "ZY0001" not in text and "希望增加停车位" not in text

    book = load_workbook(io.BytesIO(bytes(first.xlsx)))
    assert book.sheetnames == ["汇总", "科室对比"]
    ws = book["汇总"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert "2026年10月" in values[0][0]
    header = next(i for i, r in enumerate(values) if r[0] == "出院人数")
    assert values[header + 1][:6] == [3, 5, 3, 1, 1, 1]
    assert values[header + 1][6] == pytest.approx(0.6)
    assert ws.cell(header + 2, 7).number_format == "0.00%"
    dims = {r[0]: r for r in values if r[0] in ("服务态度", "总评价")}
    assert dims["服务态度"][1:6] == [1, 0, 1, 0, 2]
    assert dims["总评价"][6] == pytest.approx(0.6667)
    cats = {r[0]: r[1:5] for r in values if r[0] in ("就医环境", "服务态度 › 护士", "未分类")}
    assert cats == {
        "就医环境": [0, 1, 2, 3],
        "服务态度 › 护士": [2, 0, 0, 2],
        "未分类": [1, 0, 0, 1],
    }
    closure = next(i for i, r in enumerate(values) if r[0] == "本期登记")
    assert values[closure + 1][:7] == [3, 3, 1, 3, 2, 1, "50.0%"]
    dept = [[c.value for c in row] for row in book["科室对比"].iter_rows(min_row=3)]
    assert dept[0][:5] == ["骨科病区", 1, 1, 1, 0]
    assert dept[1][:5] == ["心血管内科病区", 2, 4, 2, 1]
    assert dept[1][5] == pytest.approx(0.5)

    second = generate(OCTOBER, "month", by=people["medical_affairs"], today=TODAY)
    assert Summary.objects.count() == 1 and second.pk == first.pk
    assert second.generated_by == people["medical_affairs"]
    assert AuditEvent.objects.filter(action=Action.UPDATE, object_type="reports.summary").exists()


def test_generate_refuses_a_kind_that_does_not_match_R3(month):
    with pytest.raises(SummaryError):
        generate(OCTOBER, "quarter", today=TODAY)


def test_a_month_without_anything_still_makes_a_summary_R3(org, frozen):
    summary = generate(periods.month(2026, 10), "month", today=TODAY)
    assert summary.data["rates"]["followup"] is None and summary.data["departments"] == []
    assert "—" in pdf_text(bytes(summary.pdf))


# --- Pages ------------------------------------------------------------------------------------


@pytest.fixture
def kept(month):
    return generate(OCTOBER, "month", today=TODAY)


@pytest.mark.parametrize("who", ["leader", "medical_affairs", "supervisor", "nursing"])
def test_whole_hospital_roles_see_the_list_and_the_detail_R3(kept, people, who):
    client = client_for(people[who])
    listing = client.get("/reports/summary/")
    assert listing.status_code == 200 and "2026-10" in listing.content.decode()
    detail = client.get(f"/reports/summary/{kept.pk}/")
    page = detail.content.decode()
    assert detail.status_code == 200
    assert "60.00%" in page and "就医环境" in page and page.count("<svg") == 4
    assert "病人1" not in page and "希望增加停车位" not in page


@pytest.mark.parametrize("who", ["dept_head", "agent", "cardio_nurse", "auditor"])
def test_other_roles_are_refused_with_a_chinese_message_R3_O3(kept, people, who):
    client = client_for(people[who])
    for url in ("/reports/summary/", f"/reports/summary/{kept.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "领导汇总报告" in response.content.decode()


def test_download_is_audited_R3_S3(kept, people):
    client = client_for(people["leader"])
    pdf = client.get(f"/reports/summary/{kept.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "2026年10月" in pdf_text(pdf.content)
    xlsx = client.get(f"/reports/summary/{kept.pk}/xlsx/")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    events = AuditEvent.objects.filter(action=Action.EXPORT, object_type="reports.summary")
    assert events.count() == 2
    assert {e.actor_id for e in events} == {people["leader"].pk}
    assert all(e.object_id == str(kept.pk) for e in events)
    assert "PDF" in events.order_by("pk").first().message


def test_download_by_a_department_head_is_refused_and_not_audited_R3(kept, people):
    response = client_for(people["dept_head"]).get(f"/reports/summary/{kept.pk}/pdf/")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_unknown_format_is_a_400_R3(kept, people):
    response = client_for(people["leader"]).get(f"/reports/summary/{kept.pk}/doc/")
    assert response.status_code == 400


def test_generate_from_the_page_R3(month, people):
    client = client_for(people["medical_affairs"])
    assert "summary-generate" in client.get("/reports/summary/").content.decode()
    response = client.post("/reports/summary/generate/", {"period": "2026-Q3", "refresh": "on"})
    summary = Summary.objects.get()
    assert (summary.kind, summary.period_key) == ("quarter", "2026-Q3")
    assert response.status_code == 302 and response["Location"] == f"/reports/summary/{summary.pk}/"
    assert summary.generated_by == people["medical_affairs"]


@pytest.mark.parametrize(
    ("period", "message"),
    [("2026-11", "尚未结束"), ("2026-13", "不在"), ("下个月", "无法识别"), ("", "")],
)
def test_bad_period_is_a_400_with_its_message_and_changes_nothing_R3(
    month, people, period, message
):
    response = client_for(people["medical_affairs"]).post(
        "/reports/summary/generate/", {"period": period}
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not Summary.objects.exists()


def test_leadership_may_read_but_not_generate_R3(month, people):
    client = client_for(people["leader"])
    assert "summary-generate" not in client.get("/reports/summary/").content.decode()
    response = client.post("/reports/summary/generate/", {"period": "2026-10"})
    assert response.status_code == 403 and not Summary.objects.exists()


def test_charts_on_screen_parse_as_svg_R3(kept, people):
    from careloop.reports.summary import make_charts

    for svg in make_charts(kept.data).values():
        ET.fromstring(svg)


def test_a_summary_of_the_first_months_has_a_shorter_trend_not_an_error_R3(month, people):
    """Reports start in 2000-01: the trend of 2000-06 has six months, not twelve (was a 500)."""
    response = client_for(people["medical_affairs"]).post(
        "/reports/summary/generate/", {"period": "2000-06"}
    )
    assert response.status_code == 302
    summary = Summary.objects.get(period_key="2000-06")
    assert [m["key"] for m in summary.data["trend"]][:1] == ["2000-01"]
