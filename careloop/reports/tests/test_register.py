"""R2: the follow-up register (病人回访登记表) of one department for a date range — the rows
(completed follow-ups of that department completed in the range, in the order they were made),
the page, the Excel laid out like the paper, the PDF, the scope (O3), the patient permission
(P3: leadership never sees names) and the audit of every export (S3)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader

from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.followup.choices import TaskStatus
from careloop.followup.models import FollowUpRecord
from careloop.followup.tests.uihelpers import client_for, make_policy, make_stage, make_task
from careloop.patients.models import Diagnosis, Patient, Visit
from careloop.reports import periods
from careloop.reports.register import RegisterRow, register_rows

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=8))
URL = "/reports/register/"
HOSPITAL = "汉川市中医医院"
OCTOBER = periods.date_range(dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture(autouse=True)
def _now(settings):
    settings.HOSPITAL_NAME = HOSPITAL
    with time_machine.travel(at("2026-11-05 10:00"), tick=False):
        yield


class Ward:
    """Visits, tasks and records made with the ORM (the planner and the call screen are tested
    apart): ``done`` makes a completed follow-up with its record."""

    def __init__(self, stage):
        self.stage, self.n = stage, 0

    def visit(self, department, *, name, sex="1", birth=None, discharged, diagnoses=()):
        self.n += 1
        patient = Patient.objects.create(
            patient_no=f"R{self.n:04d}", name=name, sex=sex, birth_date=birth
        )
        out = at(discharged)
        visit = Visit.objects.create(
            patient=patient, visit_type="inpatient", visit_no=f"ZY{self.n:05d}",
            department=department, admitted_at=out - dt.timedelta(days=6), discharged_at=out,
        )  # fmt: skip
        for i, (code, text) in enumerate(diagnoses):
            Diagnosis.objects.create(
                visit=visit, position=i, code=code, text=text, is_principal=i == 0
            )
        return visit

    def done(self, visit, when, by, *, condition="", opinions="", overall="", stage=None):
        moment = at(when)
        task = make_task(
            stage or self.stage, visit, start=moment.date() - dt.timedelta(days=3),
            status=TaskStatus.COMPLETED, completed_at=moment,
        )  # fmt: skip
        FollowUpRecord.objects.create(
            task=task, condition=condition, opinions=opinions, overall=overall, by=by, at=moment
        )
        return task


@pytest.fixture
def ward(db):
    return Ward(make_stage(make_policy(is_active=True)))


@pytest.fixture
def month(ward, org, personas, make_user):
    """October 2026 in cardiology: three follow-ups made, created out of order; beside them one
    in orthopaedics, two in cardiology just outside October and one cardiology patient lost."""
    from careloop.accounts.roles import Role

    agent = make_user("agent.r2", Role.AGENT, departments=[org["service"]], full_name="周回访")
    nurse = make_user("nurse.r2", Role.NURSE, departments=[org["cardio"]], full_name="吴护士")
    cardio, ortho = org["cardio"], org["ortho"]
    v2 = ward.visit(
        cardio, name="李秀英", sex="2", birth=dt.date(1980, 10, 10), discharged="2026-10-05 09:30",
        diagnoses=[("I10", "高血压病")],
    )  # fmt: skip
    v1 = ward.visit(
        cardio, name="张三丰", birth=dt.date(1960, 5, 20), discharged="2026-09-28 10:00",
        diagnoses=[("I25.1", "冠状动脉粥样硬化性心脏病"), ("E11.9", "2型糖尿病")],
    )  # fmt: skip
    v3 = ward.visit(cardio, name="王建国", discharged="2026-10-15 11:00", diagnoses=[("I48", "")])
    ward.done(v2, "2026-10-12 14:30", nurse, condition="血压平稳", overall="good")
    ward.done(
        v1, "2026-10-03 09:00", agent, condition="恢复良好，\n已能散步", opinions="无",
        overall="very_good",
    )  # fmt: skip
    ward.done(
        v3, "2026-10-31 23:59", agent, condition="仍感心悸", opinions="=1+1 候诊时间太长",
        overall="poor",
    )  # fmt: skip
    # Not in the register: another department, outside the range (both ends), unreachable.
    other = ward.visit(ortho, name="陈骨科", discharged="2026-10-01 10:00")
    ward.done(other, "2026-10-10 10:00", agent, condition="骨折愈合中", overall="good")
    early = ward.visit(cardio, name="刘九月", discharged="2026-09-15 10:00")
    ward.done(early, "2026-09-30 23:59", agent, overall="good")
    late = ward.visit(cardio, name="孙十一", discharged="2026-10-20 10:00")
    ward.done(late, "2026-11-01 00:00", agent, overall="good")
    lost = ward.visit(cardio, name="钱失访", discharged="2026-10-02 10:00")
    make_task(
        ward.stage, lost, start=dt.date(2026, 10, 9), status=TaskStatus.UNREACHABLE,
        completed_at=at("2026-10-16 10:00"),
    )  # fmt: skip
    return {"agent": agent, "nurse": nurse}


EXPECTED = [
    RegisterRow(
        task_id=0, followed_at=at("2026-10-03 09:00"), visit_no="ZY00002", name="张三丰",
        sex="男", age=66, diagnoses="冠状动脉粥样硬化性心脏病、2型糖尿病",
        discharged_at=at("2026-09-28 10:00"), condition="恢复良好，\n已能散步", opinions="无",
        overall="very_good", by="周回访",
    ),
    # Age at discharge (10-05): 45; at the follow-up (10-12) she was already 46.
    RegisterRow(
        task_id=0, followed_at=at("2026-10-12 14:30"), visit_no="ZY00001", name="李秀英",
        sex="女", age=45, diagnoses="高血压病", discharged_at=at("2026-10-05 09:30"),
        condition="血压平稳", opinions="", overall="good", by="吴护士",
    ),
    # No birth date: no age; a diagnosis without text shows its code.
    RegisterRow(
        task_id=0, followed_at=at("2026-10-31 23:59"), visit_no="ZY00003", name="王建国",
        sex="男", age=None, diagnoses="I48", discharged_at=at("2026-10-15 11:00"),
        condition="仍感心悸", opinions="=1+1 候诊时间太长", overall="poor", by="周回访",
    ),
]  # fmt: skip


def _values(row: RegisterRow) -> tuple:
    return (
        row.followed_at, row.visit_no, row.name, row.sex, row.age, row.diagnoses,
        row.discharged_at, row.condition, row.opinions, row.overall, row.by,
    )  # fmt: skip


def test_register_rows_are_the_departments_completed_follow_ups_in_order_R2(month, org):
    rows = register_rows(OCTOBER, org["cardio"].pk)
    assert [_values(r) for r in rows] == [_values(r) for r in EXPECTED]
    assert [r.ticks() for r in rows] == [["✓", "", "", ""], ["", "✓", "", ""], ["", "", "", "✓"]]
    assert [r.overall_label for r in rows] == ["很好", "好", "差"]
    assert [r.name for r in register_rows(OCTOBER, org["ortho"].pk)] == ["陈骨科"]


def test_register_policy_filter_R2(month, ward, org, personas):
    other_stage = make_stage(make_policy(slug="chronic", name="慢病回访"), code="chronic")
    visit = ward.visit(org["cardio"], name="周慢病", discharged="2026-10-02 10:00")
    ward.done(visit, "2026-10-20 10:00", personas["agent"], overall="fair", stage=other_stage)
    assert len(register_rows(OCTOBER, org["cardio"].pk)) == 4
    only = register_rows(OCTOBER, org["cardio"].pk, policies=[other_stage.policy_id])
    assert [(r.name, r.ticks()) for r in only] == [("周慢病", ["", "", "✓", ""])]
    page = client_for(personas["medical_affairs"]).get(
        URL, {"department": org["cardio"].pk, "start": "2026-10-01", "end": "2026-10-31",
              "policy": other_stage.policy_id},
    )  # fmt: skip
    assert page.status_code == 200 and page.context["page_obj"].paginator.count == 1


def test_completed_without_record_is_listed_without_agent_R2(ward, org, personas):
    visit = ward.visit(org["cardio"], name="网上答卷", discharged="2026-10-02 10:00")
    make_task(
        ward.stage, visit, start=dt.date(2026, 10, 9), status=TaskStatus.COMPLETED,
        completed_at=at("2026-10-11 08:00"),
    )  # fmt: skip
    (row,) = register_rows(OCTOBER, org["cardio"].pk)
    assert (row.name, row.followed_at, row.by, row.condition, row.overall) == (
        "网上答卷", at("2026-10-11 08:00"), "", "", ""
    )  # fmt: skip


# --- the page ---------------------------------------------------------------------------------


def test_page_lists_the_register_with_count_R2(month, org, personas):
    response = client_for(personas["medical_affairs"]).get(
        URL, {"department": org["cardio"].pk, "start": "2026-10-01", "end": "2026-10-31"}
    )
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 3
    assert [r.name for r in response.context["rows"]] == ["张三丰", "李秀英", "王建国"]
    html = response.content.decode()
    assert "共 3 条回访记录" in html
    assert f"{HOSPITAL}病人回访登记表" in html
    assert "科室：心血管内科病区" in html and "日期：2026-10-01 至 2026-10-31" in html
    for text in ("冠状动脉粥样硬化性心脏病、2型糖尿病", "2026-10-03 09:00", "2026-09-28", "周回访"):
        assert text in html
    # P3: the register carries no phone numbers.
    assert "1380000" not in html and "陈骨科" not in html and "钱失访" not in html
    assert 'id="export-xlsx"' in html and 'id="export-pdf"' in html


def test_page_defaults_to_last_month_and_own_department_R2(month, personas):
    response = client_for(personas["dept_head"]).get(URL)
    assert response.status_code == 200
    assert response.context["period"] == OCTOBER
    assert [r.name for r in response.context["rows"]] == ["张三丰", "李秀英", "王建国"]
    assert 'value="2026-10-01"' in response.content.decode()


def test_page_without_department_asks_for_one_R2(month, personas):
    response = client_for(personas["medical_affairs"]).get(URL)
    assert response.status_code == 200 and response.context["rows"] == []
    assert "请选择科室和日期后查询。" in response.content.decode()
    missing = client_for(personas["medical_affairs"]).get(URL, {"start": "2026-10-01"})
    assert missing.status_code == 400 and "请选择科室。" in missing.content.decode()


def test_page_is_paginated_R2(month, org, personas, monkeypatch):
    from careloop.reports.views import register as view

    monkeypatch.setattr(view, "PAGE_SIZE", 2)
    client = client_for(personas["medical_affairs"])
    query = {"department": org["cardio"].pk, "start": "2026-10-01", "end": "2026-10-31"}
    first = client.get(URL, query)
    second = client.get(URL, {**query, "page": 2})
    assert [r.name for r in first.context["rows"]] == ["张三丰", "李秀英"]
    assert [r.name for r in second.context["rows"]] == ["王建国"]
    assert "共 3 条回访记录" in second.content.decode()


def test_empty_register_says_so_R2(month, org, personas):
    response = client_for(personas["medical_affairs"]).get(
        URL, {"department": org["ortho"].pk, "start": "2026-11-01", "end": "2026-11-05"}
    )
    assert response.status_code == 200 and response.context["rows"] == []
    html = response.content.decode()
    assert "该科室在所选日期内没有已完成的回访。" in html and 'id="export-xlsx"' not in html


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-10-31", "2026-10-01", "结束日期早于开始日期"),
        ("2025-01-01", "2026-10-31", "日期范围不能超过一年"),
        ("2026-13-01", "2026-10-31", "开始日期应为“年-月-日”，例如 2026-10-01。"),
        ("2026-10-01", "abc", "结束日期应为“年-月-日”，例如 2026-10-31。"),
        ("9999-12-31", "9999-12-31", "日期应在 2000 年至 2100 年之间。"),
    ],
)
def test_bad_dates_are_a_chinese_message_not_a_500_R2(month, org, personas, start, end, message):
    client = client_for(personas["medical_affairs"])
    query = {"department": org["cardio"].pk, "start": start, "end": end}
    for extra in ({}, {"format": "xlsx"}, {"format": "pdf"}):
        response = client.get(URL, {**query, **extra})
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert message in response.content.decode()
        assert "张三丰" not in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


# --- scope and rights -------------------------------------------------------------------------


def test_department_head_cannot_ask_for_another_department_R2(month, org, personas):
    client = client_for(personas["dept_head"])
    query = {"department": org["ortho"].pk, "start": "2026-10-01", "end": "2026-10-31"}
    for extra in ({}, {"format": "xlsx"}, {"format": "pdf"}):
        response = client.get(URL, {**query, **extra})
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert "所选科室不存在或不在您的查看范围内。" in html
        assert "陈骨科" not in html and response.context["rows"] == []
    # Their own department is the only one offered.
    choices = [str(label) for _v, label in response.context["form"].fields["department"].choices]
    assert choices == ["请选择科室", "心血管内科病区"]
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_leadership_is_refused_the_register_R2(month, org, personas):
    client = client_for(personas["leader"])
    query = {"department": org["cardio"].pk, "start": "2026-10-01", "end": "2026-10-31"}
    for extra in ({}, {"format": "xlsx"}, {"format": "pdf"}):
        response = client.get(URL, {**query, **extra})
        assert response.status_code == 403
        html = response.content.decode()
        assert "回访登记表载有患者姓名，您的角色无权查看患者信息；请查看月度统计表。" in html
        assert "张三丰" not in html
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_roles_without_report_rights_are_refused_R2(month, org, personas):
    for persona in ("agent", "cardio_nurse", "auditor"):
        response = client_for(personas[persona]).get(URL, {"department": org["cardio"].pk})
        assert response.status_code == 403, persona
        assert "您的角色不能查看统计报表。" in response.content.decode()


def test_anonymous_is_sent_to_login_R2(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


# --- Excel ------------------------------------------------------------------------------------


def _xlsx(client, org):
    response = client.get(
        URL,
        {"department": org["cardio"].pk, "start": "2026-10-01", "end": "2026-10-31",
         "format": "xlsx"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(response.content))


def test_excel_is_the_paper_form_cell_by_cell_R2(month, org, personas):
    ws = _xlsx(client_for(personas["medical_affairs"]), org).active
    assert ws.title == "回访登记表"
    assert ws["A1"].value == "汉川市中医医院病人回访登记表"
    assert ws["A2"].value == "科室：心血管内科病区"
    assert ws["F2"].value == "日期：2026-10-01 至 2026-10-31"
    merged = sorted(str(r) for r in ws.merged_cells.ranges)
    assert merged == sorted(
        ["A1:N1", "A2:E2", "F2:N2", "J4:M4"] + [f"{c}4:{c}5" for c in "ABCDEFGHIN"]
    )
    header = [ws.cell(4, c).value for c in range(1, 15)]
    assert header == [
        "回访时间", "住院号", "姓名", "性别", "年龄", "住院诊断", "出院时间",
        "目前病情（康复情况）", "意见或建议", "总评价", None, None, None, "回访人员",
    ]  # fmt: skip
    assert [ws.cell(5, c).value for c in range(10, 14)] == ["很好", "好", "一般", "差"]
    rows = [[ws.cell(r, c).value for c in range(1, 15)] for r in range(6, ws.max_row + 1)]
    assert rows == [
        [dt.datetime(2026, 10, 3, 9, 0), "ZY00002", "张三丰", "男", 66,
         "冠状动脉粥样硬化性心脏病、2型糖尿病", dt.datetime(2026, 9, 28), "恢复良好，\n已能散步",
         "无", "✓", None, None, None, "周回访"],
        [dt.datetime(2026, 10, 12, 14, 30), "ZY00001", "李秀英", "女", 45, "高血压病",
         dt.datetime(2026, 10, 5), "血压平稳", None, None, "✓", None, None, "吴护士"],
        [dt.datetime(2026, 10, 31, 23, 59), "ZY00003", "王建国", "男", None, "I48",
         dt.datetime(2026, 10, 15), "仍感心悸", "=1+1 候诊时间太长", None, None, None, "✓",
         "周回访"],
    ]  # fmt: skip
    # Text typed by people is never a live formula.
    assert ws["I8"].data_type == "s"
    assert ws["A6"].number_format == "yyyy-mm-dd hh:mm" and ws["G6"].number_format == "yyyy-mm-dd"
    assert ws["H6"].alignment.wrap_text and ws["J4"].alignment.horizontal == "center"
    assert ws["A6"].border.left.style == "thin"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$4:$5"


def test_excel_export_is_audited_R2(month, org, personas):
    _xlsx(client_for(personas["dept_head"]), org)
    (event,) = AuditEvent.objects.filter(action=Action.EXPORT)
    assert event.object_type == "org.department" and event.object_id == str(org["cardio"].pk)
    assert event.message == "导出回访登记表 心血管内科病区 2026-10-01 至 2026-10-31 3 条（xlsx）"
    assert event.actor_name == personas["dept_head"].username


# --- PDF --------------------------------------------------------------------------------------


def test_pdf_has_the_department_and_the_patients_R2(month, org, personas):
    response = client_for(personas["medical_affairs"]).get(
        URL,
        {"department": org["cardio"].pk, "start": "2026-10-01", "end": "2026-10-31",
         "format": "pdf"},
    )  # fmt: skip
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    assert "汉川市中医医院病人回访登记表" in text
    assert "科室：心血管内科病区" in text and "2026-10-01至2026-10-31" in text
    for name in ("张三丰", "李秀英", "王建国", "周回访", "吴护士", "高血压病"):
        assert name in text
    assert "陈骨科" not in text and "刘九月" not in text and "钱失访" not in text
    assert "第1页，共1页" in text
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    (event,) = AuditEvent.objects.filter(action=Action.EXPORT)
    assert event.message.endswith("3 条（pdf）")


def test_pdf_repeats_the_header_on_every_page_R2(ward, org, personas):
    agent = personas["agent"]
    for i in range(40):
        visit = ward.visit(org["cardio"], name=f"多页{i:02d}", discharged="2026-10-01 10:00")
        ward.done(visit, f"2026-10-{2 + i % 25:02d} 10:{i:02d}", agent,
                  condition="恢复良好" * 6, overall="good")  # fmt: skip
    response = client_for(personas["medical_affairs"]).get(
        URL,
        {"department": org["cardio"].pk, "start": "2026-10-01", "end": "2026-10-31",
         "format": "pdf"},
    )  # fmt: skip
    pages = [
        "".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.content)).pages
    ]
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert "回访时间" in text and "总评价" in text and "回访人员" in text
        assert f"第{number}页，共{len(pages)}页" in text


def test_pdf_too_large_asks_for_a_shorter_range_R2(month, org, personas, monkeypatch):
    from careloop.reports.views import register as view

    monkeypatch.setattr(view, "PDF_MAX_ROWS", 2)
    response = client_for(personas["medical_affairs"]).get(
        URL,
        {"department": org["cardio"].pk, "start": "2026-10-01", "end": "2026-10-31",
         "format": "pdf"},
    )  # fmt: skip
    assert response.status_code == 400
    assert (
        "共 3 条记录，超过 PDF 的上限 2 条；请缩短日期范围或导出 Excel。"
        in response.content.decode()
    )
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_register_reads_in_two_queries_whatever_the_row_count_R2(
    month, org, django_assert_num_queries
):
    # The tasks with patient, visit, record and agent in one join; the diagnoses in one more.
    with django_assert_num_queries(2):
        assert len(register_rows(OCTOBER, org["cardio"].pk)) == 3
