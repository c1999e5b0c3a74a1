"""R1 page: the monthly department table on screen — every cell of a hand-built month, the
合计 row, the R5 legend, scope (a department head sees only cardiology), the export audit, and a
bad month answered in Chinese."""

from __future__ import annotations

import re
from html import unescape

import pytest
import time_machine

from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.followup.tests.uihelpers import client_for
from careloop.reports.tests.r1_month import (
    CARDIO,
    CARDIO_EXTRA,
    ORTHO,
    ORTHO_EXTRA,
    TODAY,
    TOTAL,
    TOTAL_EXTRA,
    build_month,
)

pytestmark = pytest.mark.django_db

URL = "/reports/monthly/"


@pytest.fixture
def month(org, personas):
    with time_machine.travel(TODAY, tick=False):
        yield build_month(org, personas["agent"])


def table_rows(html: str) -> dict[str, list[str]]:
    """{row label: [cell texts]} of the R1 table."""
    body = html.split('id="r1-table"', 1)[1].split("</table>", 1)[0]
    body = body.split("<tbody>", 1)[1]
    out = {}
    for tr in re.findall(r"<tr.*?</tr>", body, re.S):
        cells = [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        ]
        out[cells[0]] = cells[1:]
    return out


def texts(values) -> list[str]:
    return [str(v) for v in values]


def test_page_shows_every_cell_and_the_total_R1(month, personas):
    response = client_for(personas["medical_affairs"]).get(URL, {"month": "2026-10"})
    assert response.status_code == 200
    html = response.content.decode()
    rows = table_rows(html)
    # Departments in code order (GK before XNK), then the total.
    assert list(rows) == ["骨科病区", "心血管内科病区", "合计"]
    assert rows["心血管内科病区"] == texts(CARDIO + CARDIO_EXTRA)
    assert rows["骨科病区"] == texts(ORTHO + ORTHO_EXTRA)
    assert rows["合计"] == texts(TOTAL + TOTAL_EXTRA)
    assert "示范医院病人回访科室第10月度统计表" in html
    assert "回访率 = 已回访 / 应访（应访不含不予回访，如院内死亡）" in html
    # The form's headers, in order.
    for header in ("出院人数", "回访人数", "回访方式", "电话(率)", "上门(率)", "服务态度",
                   "出院指导(膳食、服药、复诊、康复)", "技术水平", "医德医风", "应访", "及时率"):  # fmt: skip
        assert header in html


def test_default_month_is_last_month_R1(month, personas):
    response = client_for(personas["medical_affairs"]).get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="2026-10"' in html
    assert table_rows(html)["心血管内科病区"] == texts(CARDIO + CARDIO_EXTRA)


def test_every_count_links_to_its_drill_down_R1(month, personas):
    html = client_for(personas["medical_affairs"]).get(URL, {"month": "2026-10"}).content.decode()
    cardio = month["c1"].department_id
    links = [unescape(u) for u in re.findall(r'href="(/reports/drill/\?[^"]+)"', html)]
    assert f"/reports/drill/?month=2026-10&department={cardio}&policy=&metric=discharges" in links
    assert (
        f"/reports/drill/?month=2026-10&department={cardio}&policy=&metric=rating"
        "&dimension=attitude&rating=poor"
    ) in links
    # The 合计 row opens every visible department.
    assert "/reports/drill/?month=2026-10&department=&policy=&metric=completed" in links
    # Two rows × (出院, 回访, 回访率, 电话, 上门, 16 ratings, 应访, 失访, 不予回访, 及时率) + 合计.
    assert len(links) == 3 * (5 + 16 + 4)


def test_single_department_is_one_row_without_total_R1(month, personas, org):
    response = client_for(personas["medical_affairs"]).get(
        URL, {"month": "2026-10", "department": org["ortho"].pk}
    )
    rows = table_rows(response.content.decode())
    assert rows == {"骨科病区": texts(ORTHO + ORTHO_EXTRA)}


def test_department_head_sees_only_cardiology_R1(month, personas, org):
    client = client_for(personas["dept_head"])
    html = client.get(URL, {"month": "2026-10"}).content.decode()
    assert table_rows(html) == {"心血管内科病区": texts(CARDIO + CARDIO_EXTRA)}
    assert "骨科病区" not in html
    # Asking for orthopaedics is refused, with nothing of it shown.
    refused = client.get(URL, {"month": "2026-10", "department": org["ortho"].pk})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "无权查看该科室或科室不存在" in text and "r1-table" not in text
    assert "骨科病区" not in text


def test_roles_without_report_permission_are_refused_R1(month, personas):
    for name in ("agent", "cardio_nurse", "auditor"):
        assert client_for(personas[name]).get(URL).status_code == 403


@pytest.mark.parametrize("bad", ["2026-13", "abc", "1999-01", "2026-Q4"])
def test_bad_month_is_a_chinese_message_not_a_500_R1(month, personas, bad):
    response = client_for(personas["medical_affairs"]).get(URL, {"month": bad})
    assert response.status_code == 400
    html = response.content.decode()
    assert "统计月份：" in html and "r1-table" not in html
    assert any(
        m in html for m in ("无法识别的统计期间", "不在 2000-01 至 2100-12 之间", "请选择一个月份")
    )


def test_policy_narrows_the_tasks_not_the_discharges_R1(month, personas):
    from careloop.followup.tests.uihelpers import make_policy

    other = make_policy(slug="other", name="其他制度")
    response = client_for(personas["medical_affairs"]).get(
        URL, {"month": "2026-10", "policy": other.pk}
    )
    rows = table_rows(response.content.decode())
    assert rows["心血管内科病区"][:3] == ["8", "0", "—"]


def test_exports_are_audited_R1(month, personas):
    client = client_for(personas["dept_head"])
    for fmt, ctype in (("xlsx", "spreadsheetml"), ("pdf", "application/pdf")):
        response = client.get(URL, {"month": "2026-10", "format": fmt})
        assert response.status_code == 200 and ctype in response["Content-Type"]
    events = list(AuditEvent.objects.filter(action=Action.EXPORT).order_by("pk"))
    assert [e.message for e in events] == [
        "导出病人回访科室月度统计表 2026-10 心血管内科病区（xlsx，1 个科室）",
        "导出病人回访科室月度统计表 2026-10 心血管内科病区（pdf，1 个科室）",
    ]
    assert {e.actor_id for e in events} == {personas["dept_head"].pk}


def test_the_wards_policy_is_shown_first_and_all_policies_one_choice_away_R1(
    month, personas, settings
):
    """With the service centre's call and the ward's call both active, the paper form counts
    the ward's (CARELOOP_R1_POLICY): 回访人数 per discharge, not per task. policy= shows all."""
    from careloop.followup.models import FollowUpTask, Policy

    ward = Policy.objects.get(slug="r1-policy")
    settings.CARELOOP_R1_POLICY = "r1-policy"
    # A second active policy with one more completed call in cardiology in October.
    other = FollowUpTask.objects.filter(department__code="XNK", status="completed").first()
    extra_policy = Policy.objects.create(slug="kf-extra", name="客服中心回访", is_active=True)
    stage = other.stage
    stage.pk = None
    stage.policy = extra_policy
    stage.save()
    other.pk = None
    other.policy, other.stage = extra_policy, stage
    other.save()
    client = client_for(personas["medical_affairs"])
    with time_machine.travel(TODAY, tick=False):
        first = client.get(URL, {"month": "2026-10"}).content.decode()
        every = client.get(URL, {"month": "2026-10", "policy": ""}).content.decode()
    assert f'<option value="{ward.pk}" selected>' in first
    assert table_rows(first)["心血管内科病区"][1] == "4"  # r1_month: 回访人数 4
    assert table_rows(every)["心血管内科病区"][1] == "5"  # the other policy's call added
