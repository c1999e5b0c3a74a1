"""R1 PDF: A4 landscape, two copies on two pages like the paper form — the first footed
（一式两份，科室存档）, the second （一式两份，上报医务科） — with the department and its rates."""

from __future__ import annotations

import io

import pytest
import time_machine
from pypdf import PdfReader

from careloop.followup.tests.uihelpers import client_for
from careloop.reports.tests.r1_month import TODAY, build_month

pytestmark = pytest.mark.django_db

URL = "/reports/monthly/"


@pytest.fixture
def month(org, personas, settings):
    settings.HOSPITAL_NAME = "汉川市中医医院"
    personas["dept_head"].full_name = "李主任"
    personas["dept_head"].save()
    with time_machine.travel(TODAY, tick=False):
        yield build_month(org, personas["agent"])


def pdf(user, **query):
    response = client_for(user).get(URL, {"month": "2026-10", "format": "pdf", **query})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def pages(reader) -> list[str]:
    # Layout spacing differs between text extractors; the words are what the paper says.
    return ["".join(p.extract_text().split()) for p in reader.pages]


def test_two_copies_with_department_rates_and_footers_R1(month, personas):
    reader = pdf(personas["dept_head"])
    first, second = pages(reader)
    for text in (first, second):
        assert "汉川市中医医院病人回访科室第10月度统计表" in text
        assert "科室：心血管内科病区" in text and "上报人：李主任" in text
        assert "2026-10-01至2026-10-31" in text
        for header in ("出院人数", "回访人数", "回访率", "回访方式", "电话(率)", "上门(率)",
                       "服务态度", "出院指导(膳食、服药、复诊、康复)", "技术水平", "医德医风"):  # fmt: skip
            assert header in text
        # 回访率, 电话(率), 上门(率), 满意率 and the dimensions' rates of cardiology.
        for value in ("66.67%", "3（75.00%）", "1（25.00%）", "75.00%", "100.00%"):
            assert value in text
        assert "骨科病区" not in text and "合计" not in text
    assert first.endswith("（一式两份，科室存档）")
    assert second.endswith("（一式两份，上报医务科）")
    # A4 landscape: 842 × 595 points.
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)


def test_hospital_pdf_has_every_department_and_the_total_R1(month, personas):
    first, second = pages(pdf(personas["medical_affairs"]))
    for text in (first, second):
        assert "科室：全院" in text
        assert "骨科病区" in text and "心血管内科病区" in text and "合计" in text
        assert "62.50%" in text and "4（80.00%）" in text and "50.00%" in text
