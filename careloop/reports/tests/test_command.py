"""`careloop report close|summary|monthly` (R1, R3, R4) on the hand-built October of r1_month."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook
from pypdf import PdfReader

from careloop.audit.models import AuditEvent
from careloop.reports.models import MonthlySnapshot, Summary
from careloop.reports.tests.r1_month import TODAY, build_month

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(org, personas, settings):
    settings.HOSPITAL_NAME = "汉川市中医医院"
    with time_machine.travel(TODAY, tick=False):
        yield build_month(org, personas["agent"])


def run(*args) -> str:
    out = io.StringIO()
    call_command("report", *args, stdout=out)
    return out.getvalue()


def test_close_writes_the_month_and_the_ranking_reads_it_R4(month, org):
    assert "已生成 2 个科室" in run("close", "2026-10")
    snap = MonthlySnapshot.objects.get(month="2026-10-01", department=org["cardio"])
    # r1_month: cardiology 回访人数 4 of 应访 6, 满意率 75.00 (vg1 g2 一般1).
    assert (snap.figures["completed"], snap.figures["due"]) == (4, 6)
    assert str(snap.satisfaction) == "75.00"
    assert AuditEvent.objects.filter(object_type="reports.monthlysnapshot").count() == 1


def test_monthly_writes_the_paper_form_for_one_department_R1(month, org, tmp_path):
    target = tmp_path / "r1.xlsx"
    run("monthly", "2026-10", "--department", "XNK", "--output", str(target), "--reporter", "张三")
    ws = load_workbook(target).active
    assert ws["A1"].value == "汉川市中医医院病人回访科室第10月度统计表"
    values = [c.value for c in ws[5]]
    assert values[:4] == ["心血管内科病区", 8, 4, "66.67%"]
    pdf = tmp_path / "r1.pdf"
    run("monthly", "2026-10", "--format", "pdf", "--output", str(pdf))
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "骨科病区" in text and "66.67%" in text


def test_summary_is_generated_once_and_replaced_on_rerun_R3(month):
    run("summary", "2026-10")
    run("summary", "2026-10", "--refresh")
    assert Summary.objects.filter(kind="month", period_key="2026-10").count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["close", "2026-13"], "月份 2026-13 不在 2000-01 至 2100-12 之间"),
        (["close", "2026-Q3"], "close 只接受月份"),
        (["close", "2026-11"], "尚未结束"),
        (["summary", "2026-11"], "尚未结束"),
        (["monthly", "2026-10", "--department", "NOPE", "--output", "/tmp/x.xlsx"], "NOPE"),
    ],
)
def test_bad_arguments_are_told_in_chinese_and_write_nothing(month, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not MonthlySnapshot.objects.exists() and not Summary.objects.exists()
