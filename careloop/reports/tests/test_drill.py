"""R1/R5 drill-down: every number of the monthly table opens the list behind it, with the same
count; scope (a department head only their department); patient identity (leadership sees an
anonymised list, the nursing department masked names); the Excel export of the list."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
import time_machine
from openpyxl import load_workbook

from careloop.accounts.roles import Role
from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.followup.tests.uihelpers import client_for
from careloop.reports.tests.r1_month import TODAY, build_month

pytestmark = pytest.mark.django_db

URL = "/reports/drill/"


@pytest.fixture
def month(org, personas):
    with time_machine.travel(TODAY, tick=False):
        yield build_month(org, personas["agent"])


def count_of(html: str) -> int:
    return int(re.search(r'id="drill-count">(\d+)<', html).group(1))


def page_links(html: str) -> list[tuple[str, str]]:
    """(cell text, drill url) of every linked number on the R1 page."""
    return [
        (unescape(text), unescape(href))
        for href, text in re.findall(
            r'<a href="(/reports/drill/\?[^"]+)" class="r1-drill">([^<]*)</a>', html
        )
    ]


@pytest.mark.parametrize("persona", ["medical_affairs", "dept_head", "leader"])
def test_every_count_on_the_page_equals_its_list_R1(month, personas, persona):
    client = client_for(personas[persona])
    html = client.get("/reports/monthly/", {"month": "2026-10"}).content.decode()
    links = page_links(html)
    assert links
    checked = 0
    for text, url in links:
        count = re.match(r"^(\d+)(（|$)", text)
        if not count:
            continue  # a rate: it opens its denominator's list, checked below
        response = client.get(url)
        assert response.status_code == 200, url
        assert count_of(response.content.decode()) == int(count.group(1)), (text, url)
        checked += 1
    assert checked == len([t for t, _u in links if "%" not in t or "（" in t])


def test_rate_opens_the_due_list_with_each_status_R1(month, personas, org):
    client = client_for(personas["medical_affairs"])
    response = client.get(
        URL, {"month": "2026-10", "department": org["cardio"].pk, "metric": "due"}
    )
    html = response.content.decode()
    assert count_of(html) == 6
    # c1–c5 and c9: completed ×4, unreachable, overdue; never the excluded or cancelled one.
    assert html.count("已完成") == 4 and html.count("失访") == 1 and html.count("待回访") == 1
    assert "不予回访</td>" not in html and "已取消" not in html


def test_medical_affairs_sees_names_and_task_links_R1(month, personas, org):
    html = (
        client_for(personas["medical_affairs"])
        .get(
            URL,
            {
                "month": "2026-10",
                "department": org["cardio"].pk,
                "metric": "rating",
                "dimension": "attitude",
                "rating": "poor",
            },
        )
        .content.decode()
    )
    c3 = month["c3"]
    assert count_of(html) == 1
    assert "服务态度：差" in html
    assert c3.patient.name in html and c3.patient.patient_no in html and c3.visit.visit_no in html
    assert f'href="/followup/tasks/{c3.pk}/"' in html or c3.get_absolute_url() in html
    assert "2026-10-15 10:00" in html and "上门" in html


def test_discharges_list_the_visits_R1(month, personas, org):
    html = (
        client_for(personas["dept_head"])
        .get(URL, {"month": "2026-10", "metric": "discharges"})
        .content.decode()
    )
    assert count_of(html) == 8
    assert "出院时间" in html and "骨科病区" not in html
    assert month["c8"].visit.visit_no in html and month["c9"].visit.visit_no not in html


def test_department_head_cannot_open_another_department_R1(month, personas, org):
    client = client_for(personas["dept_head"])
    refused = client.get(
        URL, {"month": "2026-10", "department": org["ortho"].pk, "metric": "completed"}
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "无权查看该科室或科室不存在" in html
    assert month["o1"].patient.name not in html and "drill-table" not in html
    # Blank department: their own department only.
    own = client.get(URL, {"month": "2026-10", "metric": "completed"}).content.decode()
    assert count_of(own) == 4
    assert month["o1"].patient.name not in own and "骨科病区" not in own


def test_leadership_sees_the_list_without_patient_identity_R1(month, personas):
    response = client_for(personas["leader"]).get(URL, {"month": "2026-10", "metric": "completed"})
    assert response.status_code == 200
    html = response.content.decode()
    assert count_of(html) == 5
    assert "已隐去患者身份" in html
    for t in month.values():
        assert t.patient.name not in html
        assert t.patient.patient_no not in html
        assert t.visit.visit_no not in html
        assert t.get_absolute_url() not in html
    assert '<th scope="col">病历号' not in html and '<th scope="col">姓名' not in html
    # What it does show: departments, stages, statuses.
    assert html.count("出院电话回访") == 5 and "骨科病区" in html


def test_leadership_discharges_are_anonymised_too_R1(month, personas):
    html = (
        client_for(personas["leader"])
        .get(URL, {"month": "2026-10", "metric": "discharges"})
        .content.decode()
    )
    assert count_of(html) == 10
    for t in month.values():
        assert t.patient.name not in html and t.visit.visit_no not in html


def test_nursing_department_sees_masked_names_R1(month, make_user, org):
    from careloop.lib.masking import mask_name

    nursing = make_user("nursing", Role.NURSING_DEPT, departments=[org["medical"]])
    html = (
        client_for(nursing).get(URL, {"month": "2026-10", "metric": "completed"}).content.decode()
    )
    c1 = month["c1"]
    assert count_of(html) == 5
    assert c1.patient.name not in html and mask_name(c1.patient.name) in html


@pytest.mark.parametrize(
    "query, message",
    [
        ({"month": "2026-10"}, "请指定统计项"),
        ({"month": "2026-10", "metric": "nonsense"}, "未知的统计项"),
        ({"month": "2026-10", "metric": "rating", "dimension": "attitude"}, "须指定维度和评价"),
        ({"month": "2026-10", "metric": "overall", "rating": "meh"}, "未知的评价"),
        ({"month": "2026-99", "metric": "completed"}, "不在 2000-01 至 2100-12 之间"),
        ({"month": "oct", "metric": "completed"}, "无法识别的统计期间"),
    ],
)
def test_bad_drill_requests_get_a_chinese_message_R1(month, personas, query, message):
    response = client_for(personas["medical_affairs"]).get(URL, query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_roles_without_report_permission_are_refused_R1(month, personas):
    for name in ("agent", "cardio_nurse", "auditor"):
        response = client_for(personas[name]).get(URL, {"month": "2026-10", "metric": "due"})
        assert response.status_code == 403


def test_drill_list_exports_to_excel_audited_R1(month, personas, org):
    response = client_for(personas["dept_head"]).get(
        URL, {"month": "2026-10", "metric": "completed", "format": "xlsx"}
    )
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("病历号", "住院号", "姓名", "科室", "阶段", "方式", "回访窗口", "状态",
                       "完成时间", "执行人")  # fmt: skip
    assert len(rows) == 1 + 4
    c9, c1 = month["c9"], month["c1"]  # by window end: c9 (10-07) first
    assert rows[1] == (c9.patient.patient_no, c9.visit.visit_no, c9.patient.name, "心血管内科病区",
                       "出院电话回访", "电话", "2026-10-01 – 2026-10-07", "已完成",
                       "2026-10-02 10:00", "agent1")  # fmt: skip
    (event,) = AuditEvent.objects.filter(action=Action.EXPORT)
    assert event.actor_id == personas["dept_head"].pk and "4 条" in event.message

    leader = client_for(personas["leader"]).get(
        URL, {"month": "2026-10", "metric": "completed", "format": "xlsx"}
    )
    ws = load_workbook(io.BytesIO(b"".join(leader.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "科室" and len(rows) == 1 + 5
    flat = " ".join(str(v) for row in rows for v in row)
    assert c1.patient.name not in flat and c1.patient.patient_no not in flat
