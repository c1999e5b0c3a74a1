"""R1 Excel: the sheet laid out like the paper form (seed 003), re-read with openpyxl cell by cell
— title, 科室/统计期间/上报人 line, the merged two-level headers, every data cell, the footer."""

from __future__ import annotations

import io

import pytest
import time_machine
from openpyxl import load_workbook

from careloop.followup.tests.uihelpers import client_for
from careloop.reports.tests.r1_month import CARDIO, ORTHO, TODAY, TOTAL, build_month

pytestmark = pytest.mark.django_db

URL = "/reports/monthly/"
LEAVES = ["出院人数", "回访人数", "回访率", "电话(率)", "上门(率)", "满意率"] + [
    "很好", "好", "一般", "差", "满意率"] * 4  # fmt: skip


@pytest.fixture
def month(org, personas, settings):
    settings.HOSPITAL_NAME = "汉川市中医医院"
    personas["dept_head"].full_name = "李主任"
    personas["dept_head"].save()
    personas["medical_affairs"].full_name = "陈医务"
    personas["medical_affairs"].save()
    with time_machine.travel(TODAY, tick=False):
        yield build_month(org, personas["agent"])


def sheet(user, **query):
    response = client_for(user).get(URL, {"month": "2026-10", "format": "xlsx", **query})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return load_workbook(io.BytesIO(response.content)).active


def values(ws, row: int) -> list:
    return [ws.cell(row=row, column=c).value for c in range(1, 28)]


def test_sheet_is_the_paper_form_for_all_departments_R1(month, personas):
    ws = sheet(personas["medical_affairs"])
    assert ws.max_column == 27
    assert ws["A1"].value == "汉川市中医医院病人回访科室第10月度统计表"
    assert ws["A2"].value == "科室：全院"
    assert ws["J2"].value == "统计期间：2026年10月（2026-10-01 至 2026-10-31）"
    assert ws["S2"].value == "上报人：陈医务"
    assert sorted(str(r) for r in ws.merged_cells.ranges) == sorted(
        [
            "A1:AA1", "A2:I2", "J2:R2", "S2:AA2",
            # 科室, 出院人数, 回访人数, 回访率 and 满意率 span both header rows;
            "A3:A4", "B3:B4", "C3:C4", "D3:D4", "G3:G4",
            # 回访方式 over 电话(率)/上门(率); each dimension over 很好 好 一般 差 满意率.
            "E3:F3", "H3:L3", "M3:Q3", "R3:V3", "W3:AA3",
            "A9:AA9",
        ]
    )  # fmt: skip
    assert [ws.cell(row=3, column=c).value for c in (1, 2, 3, 4, 5, 7, 8, 13, 18, 23)] == [
        "科室", "出院人数", "回访人数", "回访率", "回访方式", "满意率", "服务态度",
        "出院指导(膳食、服药、复诊、康复)", "技术水平", "医德医风",
    ]  # fmt: skip
    assert [ws.cell(row=4, column=c).value for c in (5, 6)] == ["电话(率)", "上门(率)"]
    for start in (8, 13, 18, 23):
        assert [ws.cell(row=4, column=start + i).value for i in range(5)] == [
            "很好", "好", "一般", "差", "满意率"]  # fmt: skip
    assert values(ws, 5) == ["骨科病区", *ORTHO]
    assert values(ws, 6) == ["心血管内科病区", *CARDIO]
    assert values(ws, 7) == ["合计", *TOTAL]
    assert values(ws, 8) == [None] * 27
    assert ws["A9"].value == "（一式两份，科室存档）"
    assert ws.max_row == 9
    # Counts are numbers, rates the paper's text; nothing is a formula.
    assert ws["B6"].data_type == "n" and ws["D6"].data_type == "s"


def test_department_head_sheet_has_exactly_their_row_R1(month, personas):
    ws = sheet(personas["dept_head"])
    assert ws["A2"].value == "科室：心血管内科病区"
    assert ws["S2"].value == "上报人：李主任"
    assert values(ws, 5) == ["心血管内科病区", *CARDIO]
    assert values(ws, 6) == [None] * 27
    assert ws["A7"].value == "（一式两份，科室存档）"
    assert ws.max_row == 7
    flat = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert "骨科病区" not in flat and "合计" not in flat


def test_single_department_chosen_is_one_row_R1(month, personas, org):
    ws = sheet(personas["medical_affairs"], department=org["ortho"].pk)
    assert ws["A2"].value == "科室：骨科病区"
    assert values(ws, 5) == ["骨科病区", *ORTHO]
    assert ws["A7"].value == "（一式两份，科室存档）"


def test_header_leaves_read_like_the_form_R1(month, personas):
    ws = sheet(personas["medical_affairs"])
    # Reading the leaf of each column (the top cell when it spans both rows).
    leaves = [
        ws.cell(row=4, column=c).value or ws.cell(row=3, column=c).value for c in range(2, 28)
    ]
    assert leaves == LEAVES


def test_export_needs_the_export_permission_R1(month, personas, make_user, org):
    from django.contrib.auth.models import Permission

    from careloop.accounts.roles import Role

    viewer = make_user("viewer", Role.DEPT_HEAD, departments=[org["cardio"]])
    group = viewer.groups.get()
    group.permissions.remove(Permission.objects.get(codename="export_report"))
    from careloop.accounts.models import User

    viewer = User.objects.get(pk=viewer.pk)
    client = client_for(viewer)
    assert client.get(URL, {"month": "2026-10"}).status_code == 200
    assert client.get(URL, {"month": "2026-10", "format": "xlsx"}).status_code == 403
