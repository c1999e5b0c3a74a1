"""P4.1 file import of patients and visits: `careloop import visits FILE [--dry-run] [--strict]`
(§9 columns, P1–P5, S4, S5).

The command runs in process (``call_command``); the killed-process case (S4) is in
test_import_kill.py.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.core.fields import blind_lookup
from careloop.intake.choices import RunStatus
from careloop.intake.importer import run_import
from careloop.intake.models import ImportRun
from careloop.intake.tests.factories import (
    HEADERS_EN,
    HEADERS_ZH,
    ID_LI,
    ID_ZHANG,
    base_rows,
    delete_patient_data,
    natural_dump,
    raw_tables,
    run_command,
    table,
    write_csv,
    write_xlsx,
)
from careloop.org.models import Department
from careloop.patients.models import Patient, PatientEvent, PatientPhone, Visit

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


# natural_dump() of BASE_ROWS, written out by hand from the rows in factories.py.
EXPECTED = {
    "patients": [
        ("P0001", "张三", "1", dt.date(1949, 12, 31), False, ID_ZHANG,
         "浙江省杭州市西湖区文三路100号", False, None, False, False, False, None),
        ("P0002", "李四", "2", dt.date(1980, 1, 1), False, ID_LI, "广东省汕头市潮阳区",
         False, None, False, True, False, None),
        ("P0003", "王五", "0", None, False, "", "", True, at(2024, 5, 7, 3, 40), False, False,
         False, None),
    ],
    "phones": [
        ("P0001", 0, "13812345678", "self", True),
        ("P0001", 1, "057187654321", "self", False),
        ("P0002", 0, "13900001111", "self", True),
        ("P0002", 1, "13700002222", "self", False),
    ],
    "visits": [
        ("inpatient", "Z2024001", "P0001", "XNK", None, "王医生", None, "赵护士",
         at(2024, 5, 1, 8, 30), at(2024, 5, 10, 10, 0), None, "1", False, Decimal("12345.60"),
         False, False, False, True, "active", "import"),
        ("inpatient", "Z2024002", "P0002", "GK", None, "", None, "", at(2024, 5, 3, 14, 0),
         at(2024, 5, 20, 9, 15), None, "2", True, Decimal("8000.00"), False, False, True, False,
         "active", "import"),
        ("inpatient", "Z2024003", "P0003", "GK", None, "", None, "", at(2024, 5, 5, 22, 0),
         at(2024, 5, 7, 3, 40), None, "5", False, Decimal("56000.00"), False, False, False,
         False, "active", "import"),
        ("outpatient", "M2024101", "P0001", "XNK", None, "", None, "", None, None,
         at(2024, 6, 1, 9, 0), "", False, None, True, False, False, True, "active", "import"),
    ],
    "diagnoses": [
        ("inpatient", "Z2024001", 0, "I21.9", "急性心肌梗死", True),
        ("inpatient", "Z2024001", 1, "I10", "高血压", False),
        ("inpatient", "Z2024002", 0, "S72.0", "股骨颈骨折", True),
        ("inpatient", "Z2024003", 0, "T07", "多发伤", True),
        ("outpatient", "M2024101", 0, "I10", "高血压", True),
    ],
    "events": [
        ("P0003", ("inpatient", "Z2024003"), "death", at(2024, 5, 7, 3, 40),
         "[('disposition', '5')]", "import"),
    ],
}  # fmt: skip
CREATED_4 = "新增 4，更新 0，未变 0，失败 0 行\n"
UNCHANGED_4 = "新增 0，更新 0，未变 4，失败 0 行\n"
EMPTY = {"patients": [], "phones": [], "visits": [], "diagnoses": [], "events": []}


@pytest.fixture
def base_file(tmp_path):
    return write_csv(tmp_path / "visits.csv", table(base_rows()))


@pytest.fixture
def imported(org, base_file, capsys):
    """The base file imported once; yields its path."""
    assert run_command(base_file, capsys=capsys) == (0, CREATED_4, "已处理 4/4 行\n")
    return base_file


def report_of(err: str) -> list[list[str]]:
    """The error report CSV named on stderr's last line (S5), read and then removed."""
    last = err.strip().splitlines()[-1]
    assert last.startswith("错误报告：")
    path = Path(last.removeprefix("错误报告："))
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    path.unlink()
    return rows


def changed_rows(before: dict, after: dict) -> dict[str, list[tuple]]:
    """The rows of ``after`` that are not in ``before``, per table (raw, with ids)."""
    return {t: [r for r in after[t] if r not in before[t]] for t in after if after[t] != before[t]}


# ── headers, encodings and formats (§9) ─────────────────────────────────────────────────────


def test_chinese_headers_csv_P4(org, base_file, capsys):
    assert run_command(base_file, capsys=capsys) == (0, CREATED_4, "已处理 4/4 行\n")
    assert natural_dump() == EXPECTED


@pytest.mark.parametrize(
    "headers",
    [
        HEADERS_EN,
        [h.upper() for h in HEADERS_EN],
        [h.replace("_", " ").title() for h in HEADERS_EN],  # "Patient Id", "Icd10", …
    ],
    ids=["lower", "upper", "title-with-spaces"],
)
def test_english_headers_any_case_P4(org, tmp_path, capsys, headers):
    path = write_csv(tmp_path / "visits.csv", table(base_rows(), headers))
    assert run_command(path, capsys=capsys)[:2] == (0, CREATED_4)
    assert natural_dump() == EXPECTED


def test_gb18030_csv_P4(org, tmp_path, capsys):
    path = write_csv(tmp_path / "visits.csv", table(base_rows()), encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")  # really not UTF-8
    assert run_command(path, capsys=capsys)[:2] == (0, CREATED_4)
    assert natural_dump() == EXPECTED


def test_utf8_with_bom_csv_as_excel_saves_it_P4(org, tmp_path, capsys):
    path = write_csv(tmp_path / "visits.csv", table(base_rows()), encoding="utf-8-sig")
    assert run_command(path, capsys=capsys)[:2] == (0, CREATED_4)
    assert natural_dump() == EXPECTED


def xlsx_rows() -> list[list]:
    """BASE_ROWS as Excel holds them: real date and datetime cells, numbers, empty cells."""
    rows = table(base_rows())
    col = {h: i for i, h in enumerate(HEADERS_ZH)}
    cells = {
        1: {"出生日期": dt.date(1949, 12, 31), "入院时间": dt.datetime(2024, 5, 1, 8, 30),
            "出院时间": dt.datetime(2024, 5, 10, 10, 0), "总费用": 12345.6, "离院方式": 1},
        2: {"出生日期": dt.datetime(1980, 1, 1), "入院时间": dt.datetime(2024, 5, 3, 14, 0),
            "出院时间": dt.datetime(2024, 5, 20, 9, 15), "总费用": 8000},
        3: {"就诊时间": dt.datetime(2024, 6, 1, 9, 0)},
        4: {"出生日期": None, "联系电话": None, "入院时间": dt.datetime(2024, 5, 5, 22, 0),
            "出院时间": dt.datetime(2024, 5, 7, 3, 40), "总费用": 56000.0},
    }  # fmt: skip
    for i, values in cells.items():
        for header, value in values.items():
            rows[i][col[header]] = value
    for row in rows[1:]:  # Excel leaves empty cells empty, not ""
        row[:] = [None if v == "" else v for v in row]
    return rows


def test_xlsx_with_real_date_cells_P4(org, tmp_path, capsys):
    path = write_xlsx(tmp_path / "visits.xlsx", xlsx_rows())
    assert run_command(path, capsys=capsys) == (0, CREATED_4, "已处理 4/4 行\n")
    assert natural_dump() == EXPECTED


def test_csv_and_xlsx_of_the_same_export_are_the_same_data_P4(org, tmp_path, capsys):
    run_command(write_xlsx(tmp_path / "visits.xlsx", xlsx_rows()), capsys=capsys)
    before = raw_tables()
    path = write_csv(tmp_path / "visits.csv", table(base_rows()))
    assert run_command(path, capsys=capsys)[:2] == (0, UNCHANGED_4)
    assert raw_tables() == before


@pytest.mark.parametrize(
    ("header", "type_cell", "time_header", "visit_type"),
    [
        ("住院号", None, "入院时间", "inpatient"),
        ("门诊号", None, "就诊时间", "outpatient"),
        ("住院号", "急诊", "就诊时间", "emergency"),  # a 就诊类型 column wins over the header
    ],
)
def test_visit_number_header_infers_the_visit_type_P2(
    org, tmp_path, capsys, header, type_cell, time_header, visit_type
):
    headers = ["病历号", "姓名", header, "科室", time_header]
    values = ["P0001", "张三", "X001", "XNK", "2024-05-01 08:30"]
    if type_cell:
        headers.append("就诊类型")
        values.append(type_cell)
    path = write_csv(tmp_path / "visits.csv", [headers, values])
    assert run_command(path, capsys=capsys)[:2] == (0, "新增 1，更新 0，未变 0，失败 0 行\n")
    assert list(Visit.objects.values_list("visit_type", "visit_no")) == [(visit_type, "X001")]


def test_staff_linked_by_name_or_staff_number_P2(org, make_user, tmp_path, capsys):
    doctor = make_user("doc.wang", full_name="王医生", staff_no="D0001")
    nurse = make_user("nurse.zhao", full_name="赵护士", staff_no="N0001")
    rows = base_rows()
    rows[1]["attending_doctor"], rows[1]["responsible_nurse"] = "D0001", "无此人"
    run_command(write_csv(tmp_path / "visits.csv", table(rows)), capsys=capsys)
    links = {
        v.visit_no: (v.attending_doctor_id, v.attending_doctor_name, v.responsible_nurse_id,
                     v.responsible_nurse_name)
        for v in Visit.objects.all()
    }  # fmt: skip
    assert links["Z2024001"] == (doctor.pk, "王医生", nurse.pk, "赵护士")
    # An unknown name keeps the HIS text and links nobody.
    assert links["Z2024002"] == (doctor.pk, "D0001", None, "无此人")


# ── dry run, error report, strict (P4.1, S5) ────────────────────────────────────────────────


def test_dry_run_writes_nothing_and_reports_exact_counts_P4(org, base_file, capsys):
    before = raw_tables()
    assert run_command(base_file, "--dry-run", capsys=capsys) == (
        0,
        "新增 4，更新 0，未变 0，失败 0 行（试运行，未写入）\n",
        "已处理 4/4 行\n",
    )
    assert raw_tables() == before
    assert natural_dump() == EMPTY


def variant_rows() -> list[dict]:
    """BASE_ROWS with one visit changed, one new visit and one failing row."""
    rows = base_rows()
    rows[1]["total_cost"] = "8,500元"
    rows.append(dict(rows[2], visit_no="M2024102", visit_at="2024-07-01 09:00"))
    rows.append(dict(rows[0], visit_no="Z2024009", sex="X"))
    return rows


def test_dry_run_after_an_import_counts_like_the_real_run_and_writes_nothing_P4(
    imported, tmp_path, capsys
):
    path = write_csv(tmp_path / "variant.csv", table(variant_rows()))
    before = raw_tables()
    code, out, err = run_command(path, "--dry-run", capsys=capsys)
    assert (code, out) == (1, "新增 1，更新 1，未变 3，失败 1 行（试运行，未写入）\n")
    assert report_of(err) == [
        ["行号", "列", "值", "原因"],
        ["7", "性别", "X", "应为 男、女、未知，或 GB/T 2261.1 代码 0/1/2/9"],
    ]
    assert raw_tables() == before
    # The real run then does exactly what the dry run said.
    code, out, err = run_command(path, capsys=capsys)
    assert (code, out) == (1, "新增 1，更新 1，未变 3，失败 1 行\n")
    report_of(err)


def test_error_report_names_row_column_value_and_reason_S5(org, tmp_path, capsys):
    rows = base_rows()
    rows[1].update(sex="X", phone="13900001111;123")
    rows[2].update(department="儿科")
    rows.append(dict(rows[0], visit_no="Z2024010", discharged_at="2024-05-01 08:00"))
    data = table(rows)
    data.insert(3, [""] * len(HEADERS_ZH))  # a blank line: Excel row numbers shift past it
    code, out, err = run_command(write_csv(tmp_path / "visits.csv", data), capsys=capsys)
    assert (code, out) == (1, "新增 2，更新 0，未变 0，失败 3 行\n")
    assert err.splitlines() == [
        "已处理 5/6 行",  # the blank line counts in the total, not as processed
        "第 3 行，列“性别”，值“X”：应为 男、女、未知，或 GB/T 2261.1 代码 0/1/2/9",
        "第 3 行，列“联系电话”，值“139****1111;123”：电话号码“123”位数不对",
        "第 5 行，列“科室”，值“儿科”：科室不存在（请先导入科室表，或检查名称/编码）",
        "第 7 行，列“出院时间”，值“2024-05-01 08:00”：出院时间早于入院时间",
        err.splitlines()[-1],
    ]
    assert report_of(err) == [
        ["行号", "列", "值", "原因"],
        ["3", "性别", "X", "应为 男、女、未知，或 GB/T 2261.1 代码 0/1/2/9"],
        ["3", "联系电话", "139****1111;123", "电话号码“123”位数不对"],
        ["5", "科室", "儿科", "科室不存在（请先导入科室表，或检查名称/编码）"],
        ["7", "出院时间", "2024-05-01 08:00", "出院时间早于入院时间"],
    ]


def test_failing_rows_import_the_good_rows_exit_1_and_print_the_report_path_P4(
    org, tmp_path, capsys
):
    rows = base_rows()
    rows[0]["admitted_at"] = ""  # an inpatient without admission time
    code, out, err = run_command(write_csv(tmp_path / "visits.csv", table(rows)), capsys=capsys)
    assert (code, out) == (1, "新增 3，更新 0，未变 0，失败 1 行\n")
    assert err.splitlines()[-1].startswith("错误报告：")
    assert report_of(err)[1:] == [["2", "入院时间", "", "住院病人必须有入院时间"]]
    assert natural_dump()["visits"] == [v for v in EXPECTED["visits"] if v[1] != "Z2024001"]
    run = ImportRun.objects.get()
    assert (run.status, run.total_rows, run.processed_rows, run.created, run.failed) == (
        RunStatus.FINISHED,
        4,
        4,
        3,
        1,
    )
    assert run.errors == [[2, "入院时间", "", "住院病人必须有入院时间"]]


@pytest.mark.parametrize(
    ("column", "value", "report"),
    [
        ("sex", "X", ["5", "性别", "X", "应为 男、女、未知，或 GB/T 2261.1 代码 0/1/2/9"]),
        # Found only when writing (the department lookup), still nothing is written.
        ("department", "儿科", ["5", "科室", "儿科", "科室不存在（请先导入科室表，或检查名称/编码）"]),
    ],
)  # fmt: skip
def test_strict_imports_nothing_when_a_row_fails_P4(
    imported, tmp_path, capsys, column, value, report
):
    rows = variant_rows()[:-1]  # a changed and a new visit…
    rows[3][column] = value  # …and a failing row
    before = raw_tables()
    path = write_csv(tmp_path / "variant.csv", table(rows))
    code, out, err = run_command(path, "--strict", capsys=capsys)
    assert (code, out) == (1, "新增 0，更新 0，未变 0，失败 1 行\n")
    assert report_of(err)[1:] == [report]
    assert raw_tables() == before


def test_strict_imports_everything_when_no_row_fails_P4(org, base_file, capsys):
    assert run_command(base_file, "--strict", capsys=capsys)[:2] == (0, CREATED_4)
    assert natural_dump() == EXPECTED


def test_unknown_department_is_a_row_error_not_invented_P4(org, tmp_path, capsys):
    departments = sorted(Department.objects.values_list("code", "name"))
    rows = base_rows()
    rows.append(dict(rows[0], patient_id="P0009", visit_no="Z2024009", department="儿科病区"))
    code, out, err = run_command(write_csv(tmp_path / "visits.csv", table(rows)), capsys=capsys)
    assert (code, out) == (1, "新增 4，更新 0，未变 0，失败 1 行\n")
    assert report_of(err)[1:] == [
        ["6", "科室", "儿科病区", "科室不存在（请先导入科室表，或检查名称/编码）"]
    ]
    assert sorted(Department.objects.values_list("code", "name")) == departments
    assert natural_dump() == EXPECTED  # neither the visit nor its new patient P0009


def test_missing_required_columns_exit_2_and_nothing_written_P4(imported, tmp_path, capsys):
    before = raw_tables()
    keep = [i for i, h in enumerate(HEADERS_ZH) if h not in ("姓名", "住院号")]
    rows = [[r[i] for i in keep] for r in table(base_rows())]
    code, out, err = run_command(write_csv(tmp_path / "v.csv", rows), capsys=capsys)
    assert (code, out) == (2, "")
    assert err == "导入失败：缺少必需的列：姓名（name）、住院号/门诊号（visit_no）\n"
    assert raw_tables() == before


def test_unreadable_file_leaves_no_import_run_stuck_running_S4(org, tmp_path, capsys):
    path = write_csv(tmp_path / "v.csv", [["病历号", "备注"], ["P0001", "x"]])
    assert run_command(path, capsys=capsys)[0] == 2
    assert ImportRun.objects.filter(status=RunStatus.RUNNING).count() == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("none.csv", "导入失败：文件不存在："),
        ("visits.pdf", "导入失败：不支持的文件类型“.pdf”：请使用 .csv 或 .xlsx"),
    ],
    ids=["missing-csv", "pdf"],
)
def test_missing_or_unsupported_file_exit_2_with_a_chinese_message_S5(
    org, tmp_path, capsys, name, message
):
    if name.endswith(".pdf"):
        (tmp_path / name).write_bytes(b"%PDF-1.4")
    code, out, err = run_command(tmp_path / name, capsys=capsys)
    assert (code, out) == (2, "")
    assert err.startswith(message)
    assert natural_dump() == EMPTY


# ── idempotence (P4) ────────────────────────────────────────────────────────────────────────


def test_reimport_changes_nothing_P4(imported, capsys):
    before = raw_tables()  # ids, timestamps and ciphertext: nothing may be rewritten
    assert run_command(imported, capsys=capsys) == (0, UNCHANGED_4, "已处理 4/4 行\n")
    assert raw_tables() == before
    assert natural_dump() == EXPECTED


def test_changed_row_updates_its_visit_and_only_that_P4(imported, tmp_path, capsys):
    before = raw_tables()
    rows = base_rows()
    rows[1]["total_cost"] = "8,500元"
    path = write_csv(tmp_path / "v2.csv", table(rows))
    assert run_command(path, capsys=capsys)[:2] == (0, "新增 0，更新 1，未变 3，失败 0 行\n")
    after = raw_tables()
    visit = Visit.objects.get(visit_no="Z2024002")
    assert visit.total_cost == Decimal("8500.00")
    changed = changed_rows(before, after)
    assert list(changed) == ["patients_visit"]
    assert [row[0] for row in changed["patients_visit"]] == [visit.pk]
    assert len(after["patients_visit"]) == len(before["patients_visit"])


def test_changed_phone_rewrites_the_phones_not_the_visits_P4(imported, tmp_path, capsys):
    before = raw_tables()
    rows = base_rows()
    for row in rows:
        if row["patient_id"] == "P0001":
            row["phone"] = "13812345678"  # the landline is gone
    path = write_csv(tmp_path / "v2.csv", table(rows))
    # Both visits of P0001 report the patient's change.
    assert run_command(path, capsys=capsys)[:2] == (0, "新增 0，更新 2，未变 2，失败 0 行\n")
    assert natural_dump()["phones"] == [
        ("P0001", 0, "13812345678", "self", True),
        ("P0002", 0, "13900001111", "self", True),
        ("P0002", 1, "13700002222", "self", False),
    ]
    after = raw_tables()
    for name in ("patients_patient", "patients_visit", "patients_diagnosis", "patients_patientevent"):  # fmt: skip
        assert after[name] == before[name], name


def test_same_visit_twice_in_one_file_is_one_visit_updated_P4(org, tmp_path, capsys):
    rows = base_rows()
    rows.append(dict(rows[0], department="GK", discharged_at="2024-05-11 10:00"))
    code, out, _err = run_command(write_csv(tmp_path / "v.csv", table(rows)), capsys=capsys)
    assert (code, out) == (0, "新增 4，更新 1，未变 0，失败 0 行\n")
    visit = Visit.objects.select_related("department").get(visit_no="Z2024001")
    assert (visit.department.code, visit.discharged_at) == ("GK", at(2024, 5, 11, 10, 0))


def test_columns_a_later_file_lacks_keep_their_values_P4(imported, tmp_path, capsys):
    before = raw_tables()
    keep = [i for i, h in enumerate(HEADERS_ZH) if h not in ("联系电话", "身份证号", "家庭住址", "出院诊断", "诊断编码")]  # fmt: skip
    rows = [[r[i] for i in keep] for r in table(base_rows())]
    path = write_csv(tmp_path / "v2.csv", rows)
    assert run_command(path, capsys=capsys)[:2] == (0, UNCHANGED_4)
    assert raw_tables() == before


def test_age_never_replaces_a_recorded_birth_date_P1(imported, tmp_path, capsys):
    before = raw_tables()
    today = dt.date.today()
    ages = {"P0001": today.year - 1949 - 1, "P0002": today.year - 1980, "P0003": ""}
    data = table(base_rows())
    data[0][HEADERS_ZH.index("出生日期")] = "年龄"
    for row in data[1:]:
        row[HEADERS_ZH.index("出生日期")] = str(ages[row[0]])
    path = write_csv(tmp_path / "v2.csv", data)
    assert run_command(path, capsys=capsys)[:2] == (0, UNCHANGED_4)
    assert raw_tables() == before


def corrections() -> list[dict]:
    """BASE_ROWS followed by HIS's later rows for the same visits and patients."""
    rows = base_rows()
    rows.append(dict(rows[0], department="GK", total_cost="13,000元"))
    rows.append(dict(rows[1], diagnosis="股骨颈骨折;骨质疏松", icd10="S72.0;M81.9"))
    rows.append(dict(rows[2], phone="13812345678", visit_at="2024-06-01 09:30"))
    return rows


def without_planner_stamps(dump: dict) -> dict:
    # A department change inside one batch has no visit to move yet, so it is no event; the
    # same change a batch later is one. Everything else must not depend on where batches fall.
    return {**dump, "events": [e for e in dump["events"] if e[2] == "death"]}


def test_result_does_not_depend_on_where_batches_fall_S4(org, tmp_path):
    path = write_csv(tmp_path / "v.csv", table(corrections()))
    run_import(ImportRun(file_name="v.csv"), path)  # one batch
    one_batch = natural_dump()
    delete_patient_data()
    run_import(ImportRun(file_name="v.csv"), path, batch_size=1)  # a batch per row
    assert without_planner_stamps(natural_dump()) == without_planner_stamps(one_batch)
    visit = Visit.objects.select_related("department").get(visit_no="Z2024001")
    assert (visit.department.code, visit.total_cost) == ("GK", Decimal("13000.00"))


def test_same_new_visit_twice_in_one_batch_the_later_row_dying_P5(org, tmp_path, capsys):
    rows = base_rows()
    rows.append(dict(rows[0], disposition="死亡"))
    code, out, _err = run_command(write_csv(tmp_path / "v.csv", table(rows)), capsys=capsys)
    assert (code, out) == (0, "新增 4，更新 1，未变 0，失败 0 行\n")
    patient = Patient.objects.get(patient_no="P0001")
    assert (patient.is_deceased, patient.deceased_at) == (True, at(2024, 5, 10, 10, 0))
    assert sorted(e[:3] for e in events()) == [
        ("P0001", "Z2024001", "death"),
        ("P0003", "Z2024003", "death"),
    ]


def test_visit_moved_to_another_patient_updates_that_visit_only_P4(imported, tmp_path, capsys):
    before = raw_tables()
    rows = base_rows()
    rows[1] = dict(rows[3], visit_no="Z2024002", admitted_at="2024/05/03 14:00",
                   discharged_at="2024/05/20 09:15", diagnosis="股骨颈骨折", icd10="S72.0",
                   disposition="医嘱转院", cleared_out="是", total_cost="8000", special="是")  # fmt: skip
    path = write_csv(tmp_path / "v2.csv", table(rows))
    assert run_command(path, capsys=capsys)[:2] == (0, "新增 0，更新 1，未变 3，失败 0 行\n")
    visit = Visit.objects.get(visit_no="Z2024002")
    assert visit.patient.patient_no == "P0003"
    assert [r[0] for r in changed_rows(before, raw_tables())["patients_visit"]] == [visit.pk]


def test_progress_is_committed_with_each_batch_S4(org, base_file):
    seen = []

    def progress(run):
        # Another connection would see exactly this: the counters are saved with the batch.
        stored = ImportRun.objects.get(pk=run.pk)
        seen.append((stored.processed_rows, stored.total_rows, Visit.objects.count()))

    run = run_import(
        ImportRun(file_name="visits.csv"), base_file, batch_size=2, on_progress=progress
    )
    assert seen[:2] == [(2, 4, 2), (4, 4, 4)]
    assert set(seen[2:]) <= {(4, 4, 4)}
    run.refresh_from_db()
    assert (run.status, run.processed_rows, run.created, run.failed, run.errors) == (
        RunStatus.FINISHED,
        4,
        4,
        0,
        [],
    )


def test_finished_run_of_a_file_with_blank_lines_is_at_100_percent_P4(org, tmp_path):
    data = table(base_rows())
    data[2:2] = [[""] * len(HEADERS_ZH), [""] * len(HEADERS_ZH)]
    run = run_import(ImportRun(file_name="v.csv"), write_csv(tmp_path / "v.csv", data))
    run.refresh_from_db()
    assert (run.status, run.processed_rows, run.total_rows, run.percent) == (
        RunStatus.FINISHED,
        4,
        4,
        100,
    )


def test_one_import_is_one_audit_event_S2(org, base_file, capsys):
    run_command(base_file, capsys=capsys)
    assert AuditEvent.objects.filter(action=Action.IMPORT).count() == 1


# ── P5: events after the fact ───────────────────────────────────────────────────────────────


def events() -> list[tuple]:
    return [
        (e.patient.patient_no, e.visit.visit_no, e.kind, e.detail, e.source)
        for e in PatientEvent.objects.select_related("patient", "visit").order_by("pk")
    ]


def test_death_disposition_marks_the_patient_deceased_at_discharge_P5(imported, capsys):
    patient = Patient.objects.get(patient_no="P0003")
    assert (patient.is_deceased, patient.deceased_at) == (True, at(2024, 5, 7, 3, 40))
    event = PatientEvent.objects.get()
    assert (event.patient, event.visit.visit_no, event.kind, event.occurred_at, event.detail) == (
        patient,
        "Z2024003",
        "death",
        at(2024, 5, 7, 3, 40),
        {"disposition": "5"},
    )
    assert Patient.objects.filter(is_deceased=True).count() == 1
    run_command(imported, capsys=capsys)
    assert PatientEvent.objects.count() == 1  # not a second death


def test_later_death_on_an_existing_visit_P5(imported, tmp_path, capsys):
    rows = base_rows()
    rows[1]["disposition"] = "死亡"
    path = write_csv(tmp_path / "v2.csv", table(rows))
    assert run_command(path, capsys=capsys)[:2] == (0, "新增 0，更新 1，未变 3，失败 0 行\n")
    patient = Patient.objects.get(patient_no="P0002")
    assert (patient.is_deceased, patient.deceased_at) == (True, at(2024, 5, 20, 9, 15))
    assert events()[1:] == [("P0002", "Z2024002", "death", {"disposition": "5"}, "import")]
    assert PatientEvent.objects.get(kind="death", patient=patient).occurred_at == at(
        2024, 5, 20, 9, 15
    )


def test_department_change_is_an_event_with_from_and_to_P5(imported, tmp_path, capsys, org):
    rows = base_rows()
    rows[0]["department"] = "骨科病区"
    path = write_csv(tmp_path / "v2.csv", table(rows))
    assert run_command(path, capsys=capsys)[:2] == (0, "新增 0，更新 1，未变 3，失败 0 行\n")
    assert Visit.objects.get(visit_no="Z2024001").department == org["ortho"]
    assert events()[1:] == [
        (
            "P0001",
            "Z2024001",
            "department_changed",
            {"from": org["cardio"].pk, "to": org["ortho"].pk},
            "import",
        )
    ]


def test_discharge_time_change_is_an_event_with_from_and_to_P5(imported, tmp_path, capsys):
    rows = base_rows()
    rows[1]["discharged_at"] = "2024/05/21 09:15"
    path = write_csv(tmp_path / "v2.csv", table(rows))
    assert run_command(path, capsys=capsys)[:2] == (0, "新增 0，更新 1，未变 3，失败 0 行\n")
    [(patient_no, visit_no, kind, detail, source)] = events()[1:]
    assert (patient_no, visit_no, kind, source) == (
        "P0002",
        "Z2024002",
        "discharge_time_changed",
        "import",
    )
    assert sorted(detail) == ["from", "to"]
    assert dt.datetime.fromisoformat(detail["from"]) == at(2024, 5, 20, 9, 15)
    assert dt.datetime.fromisoformat(detail["to"]) == at(2024, 5, 21, 9, 15)


def test_reimport_unchanged_creates_no_event_P5(imported, capsys):
    before = events()
    assert run_command(imported, capsys=capsys)[:2] == (0, UNCHANGED_4)
    assert events() == before == [("P0003", "Z2024003", "death", {"disposition": "5"}, "import")]


# ── P3: sensitive data at rest ──────────────────────────────────────────────────────────────

PLAINTEXT = [
    "13812345678",
    "0571",
    "87654321",
    "13900001111",
    "13700002222",
    ID_ZHANG,
    ID_LI,
    "1949123",
    "文三路",
    "杭州",
    "汕头",
]


def test_phone_id_and_address_columns_hold_no_plaintext_P3(imported):
    with connection.cursor() as cursor:
        cursor.execute("SELECT number, number_bidx FROM patients_patientphone")
        phones = cursor.fetchall()
        cursor.execute("SELECT patient_no, id_number, address FROM patients_patient")
        patients = {row[0]: row[1:] for row in cursor.fetchall()}
    assert len(phones) == 4
    for number, bidx in phones:
        assert number.startswith("enc1:")
        assert bidx and bidx not in number
    for patient_no in ("P0001", "P0002"):
        assert all(value.startswith("enc1:") for value in patients[patient_no])
    assert patients["P0003"] == ("", "")  # nothing to encrypt
    # No table of patient data holds any of the plaintext anywhere.
    for name, rows in raw_tables().items():
        for row in rows:
            for cell in row:
                assert not any(p in str(cell) for p in PLAINTEXT), (name, cell)


@pytest.mark.parametrize("typed", ["+86 138 1234 5678", "138-1234-5678", "13812345678"])
def test_patient_found_by_phone_through_the_blind_index_P3(imported, typed):
    phone = PatientPhone.objects.get(**blind_lookup(PatientPhone, "number_bidx", typed))
    assert (phone.patient.patient_no, phone.number, phone.is_preferred) == (
        "P0001",
        "13812345678",
        True,
    )
    family_line = blind_lookup(PatientPhone, "number_bidx", "0571-87654321")
    assert PatientPhone.objects.get(**family_line).patient.patient_no == "P0001"
    assert not PatientPhone.objects.filter(**blind_lookup(PatientPhone, "number_bidx", "13812345679"))  # fmt: skip


def test_patient_found_by_id_number_through_the_blind_index_P3(imported):
    lookup = blind_lookup(Patient, "id_number_bidx", ID_ZHANG.lower())
    assert list(Patient.objects.filter(**lookup).values_list("patient_no", flat=True)) == ["P0001"]
