"""§9 row parsing (`careloop.intake.rows.parse_row`), as tables of cases: pure, no database.

Every problem names the column (canonical name; LABELS gives the Chinese header), the value as
given and the reason in Chinese (S5).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from careloop.intake.rows import (
    COLUMNS,
    LABELS,
    FieldProblem,
    parse_row,
    split_phones,
    valid_id_number,
)
from careloop.lib.tabular import HeaderMap

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2025, 3, 1)

# The smallest valid rows of each visit type.
INPATIENT = {
    "patient_no": "P0001",
    "name": "张三",
    "visit_no": "Z2024001",
    "visit_type": "住院",
    "department": "XNK",
    "admitted_at": "2024-05-01 08:30",
}
OUTPATIENT = {
    "patient_no": "P0001",
    "name": "张三",
    "visit_no": "M2024101",
    "visit_type": "门诊",
    "department": "XNK",
    "visit_at": "2024-06-01 09:00",
}


def parse(inferred_type="", base=INPATIENT, **fields):
    return parse_row({**base, **fields}, TZ, TODAY, inferred_type)


def ok(**fields):
    row, problems = parse(**fields)
    assert problems == []
    return row


def only_problem(**fields) -> FieldProblem:
    row, problems = parse(**fields)
    assert row is None
    assert len(problems) == 1, problems
    return problems[0]


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def test_minimal_rows_parse_with_defaults_P2():
    row = ok()
    assert (row.patient_no, row.name, row.visit_type, row.visit_no, row.department) == (
        "P0001",
        "张三",
        "inpatient",
        "Z2024001",
        "XNK",
    )
    assert (row.sex, row.birth_date, row.birth_date_estimated, row.phones) == ("0", None, False, [])
    assert row.admitted_at == at(2024, 5, 1, 8, 30)
    assert (row.discharged_at, row.visit_at, row.total_cost, row.disposition) == (
        None,
        None,
        None,
        "",
    )
    assert row.present == frozenset(INPATIENT)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("男", "1"),
        ("女", "2"),
        ("未知", "0"),
        ("未说明", "9"),
        ("0", "0"),
        ("1", "1"),
        ("2", "2"),
        ("9", "9"),
        (" 女 ", "2"),
        ("", "0"),  # no sex given: GB/T 2261.1 "0 未知"
    ],
)
def test_sex_words_and_gb_t_2261_codes_P1(text, code):
    assert ok(sex=text).sex == code


@pytest.mark.parametrize("text", ["3", "男性?", "x"])
def test_sex_outside_gb_t_2261_is_a_row_problem_S5(text):
    assert only_problem(sex=text) == FieldProblem(
        "sex", text, "应为 男、女、未知，或 GB/T 2261.1 代码 0/1/2/9"
    )


@pytest.mark.parametrize(
    "text",
    ["1980-01-02", "1980/01/02", "1980.01.02", "19800102", "1980-01-02 00:00:00", " 1980-01-02 "],
)
def test_birth_date_formats_P1(text):
    row = ok(birth_date=text)
    assert (row.birth_date, row.birth_date_estimated) == (dt.date(1980, 1, 2), False)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("02/01/1980", "日期格式应为 YYYY-MM-DD"),
        ("1980-02-30", "日期格式应为 YYYY-MM-DD"),
        ("一九八〇年", "日期格式应为 YYYY-MM-DD"),
        ("2025-03-02", "出生日期不合理"),  # tomorrow
        ("1879-12-31", "出生日期不合理"),
    ],
)
def test_bad_birth_dates_are_row_problems_S5(text, reason):
    assert only_problem(birth_date=text) == FieldProblem("birth_date", text, reason)


@pytest.mark.parametrize(
    ("text", "birth"),
    [
        ("45", dt.date(1980, 7, 1)),
        ("45岁", dt.date(1980, 7, 1)),
        ("0", dt.date(2025, 7, 1)),
        ("130", dt.date(1895, 7, 1)),
    ],
)
def test_age_gives_an_estimated_birth_date_marked_so_P1(text, birth):
    row = ok(age=text)
    assert (row.birth_date, row.birth_date_estimated) == (birth, True)
    # The estimate is written to the patient even though the file had no 出生日期 column.
    assert "birth_date" in row.present


def test_birth_date_wins_over_age_P1():
    row = ok(birth_date="1980-01-02", age="3")
    assert (row.birth_date, row.birth_date_estimated) == (dt.date(1980, 1, 2), False)


@pytest.mark.parametrize("text", ["131", "-1", "四十", "45.5.1"])
def test_bad_age_is_a_row_problem_S5(text):
    assert only_problem(age=text) == FieldProblem("age", text, "年龄应为 0–130 的整数")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01 08:30:15", at(2024, 5, 1, 8, 30, 15)),
        ("2024-05-01 08:30", at(2024, 5, 1, 8, 30)),
        ("2024/05/01 08:30:15", at(2024, 5, 1, 8, 30, 15)),
        ("2024/05/01 08:30", at(2024, 5, 1, 8, 30)),
        ("2024-05-01T08:30:15", at(2024, 5, 1, 8, 30, 15)),
        ("2024-05-01T08:30", at(2024, 5, 1, 8, 30)),
        ("20240501083015", at(2024, 5, 1, 8, 30, 15)),
        ("202405010830", at(2024, 5, 1, 8, 30)),  # not 08:03 (%S would take the "0")
        ("2024-05-01", at(2024, 5, 1)),
        ("2024/05/01", at(2024, 5, 1)),
        ("20240501", at(2024, 5, 1)),
    ],
)
@pytest.mark.parametrize("column", ["admitted_at", "discharged_at"])
def test_datetime_formats_in_the_hospital_time_zone_P2(column, text, expected):
    fields = {column: text}
    if column == "discharged_at":
        fields["admitted_at"] = "2024-04-30 00:00"
    row = ok(**fields)
    assert getattr(row, column) == expected
    assert getattr(row, column).utcoffset() == dt.timedelta(hours=8)


def test_outpatient_visit_time_P2():
    row, problems = parse(base=OUTPATIENT, visit_at="2024/06/01 09:05:30")
    assert problems == []
    assert (row.visit_type, row.visit_at, row.admitted_at) == (
        "outpatient",
        at(2024, 6, 1, 9, 5, 30),
        None,
    )


@pytest.mark.parametrize("text", ["2024-13-01 08:00", "2024-05-01 25:00", "明天上午", "01/05/2024"])
def test_bad_datetime_is_a_row_problem_S5(text):
    assert only_problem(admitted_at=text) == FieldProblem(
        "admitted_at", text, "时间格式应为 YYYY-MM-DD HH:MM"
    )


def test_discharged_before_admitted_P2():
    assert only_problem(discharged_at="2024-05-01 08:29") == FieldProblem(
        "discharged_at", "2024-05-01 08:29", "出院时间早于入院时间"
    )


def test_discharged_at_the_admission_minute_is_accepted_P2():
    row = ok(discharged_at="2024-05-01 08:30")
    assert row.discharged_at == row.admitted_at


def test_inpatient_without_admission_time_P2():
    assert only_problem(admitted_at="") == FieldProblem("admitted_at", "", "住院病人必须有入院时间")


@pytest.mark.parametrize("visit_type", ["门诊", "急诊"])
def test_outpatient_and_emergency_without_visit_time_P2(visit_type):
    row, problems = parse(base=OUTPATIENT, visit_type=visit_type, visit_at="")
    assert row is None
    assert problems == [FieldProblem("visit_at", "", "门急诊必须有就诊时间")]


def test_unparsable_admission_time_is_reported_once_P2():
    # The format problem, not a second "must have" problem for the same cell.
    assert only_problem(admitted_at="昨天").reason == "时间格式应为 YYYY-MM-DD HH:MM"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", ["13812345678"]),
        ("13812345678;13900001111", ["13812345678", "13900001111"]),
        ("13812345678；13900001111", ["13812345678", "13900001111"]),
        ("13812345678/13900001111", ["13812345678", "13900001111"]),
        ("13812345678,13900001111", ["13812345678", "13900001111"]),
        ("13812345678，13900001111", ["13812345678", "13900001111"]),
        ("13812345678 13900001111", ["13812345678", "13900001111"]),
        ("13812345678  /  13900001111", ["13812345678", "13900001111"]),
        ("+86 139 0000 1111", ["13900001111"]),
        ("+86 139 0000 1111;13812345678", ["13900001111", "13812345678"]),
        ("138-1234-5678", ["13812345678"]),
        ("0571-87654321", ["057187654321"]),
        ("13812345678;138 1234 5678", ["13812345678"]),  # the same number once
        ("", []),
    ],
)
def test_phones_split_on_separators_but_not_inside_a_number_P1(text, expected):
    assert ok(phone=text).phones == expected


def test_split_phones_keeps_each_number_as_written_P1():
    assert split_phones("+86 139 0000 1111; 138-1234-5678 0571 87654321") == [
        "+86 139 0000 1111",
        "138-1234-5678",
        "0571",
        "87654321",
    ]


@pytest.mark.parametrize("number", ["12345", "1381234567890123"])
def test_phone_with_wrong_number_of_digits_is_a_row_problem_S5(number):
    problem = only_problem(phone=f"13812345678;{number}")
    assert problem == FieldProblem("phone", f"13812345678;{number}", f"电话号码“{number}”位数不对")


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        (" 1101 0519 4912 3100 2X ", "11010519491231002X"),
        ("440524188001010014", "440524188001010014"),
        ("110105491231002", "110105491231002"),  # the old 15-digit number has no check character
    ],
)
def test_valid_id_numbers_gb_11643_P1(text, stored):
    assert ok(id_number=text).id_number == stored


@pytest.mark.parametrize(
    "text",
    [
        "110105194912310021",  # check character should be X
        "420106199001011234",  # check character should be 1
        "44052418800101001",  # 17 characters
        "4405241880010100141",  # 19 characters
        "44052418800101001A",
        "X40524188001010014",
    ],
)
def test_invalid_id_numbers_are_row_problems_P1(text):
    assert only_problem(id_number=text) == FieldProblem(
        "id_number", text, "身份证号格式或校验位不正确"
    )


@pytest.mark.parametrize(
    ("value", "valid"),
    [("11010519491231002X", True), ("110105194912310020", False), ("", False)],
)
def test_valid_id_number_check_character(value, valid):
    assert valid_id_number(value) is valid


@pytest.mark.parametrize(
    ("diagnosis", "icd10", "expected"),
    [
        ("急性心肌梗死", "I21.9", [("I21.9", "急性心肌梗死")]),
        ("急性心肌梗死;高血压", "I21.9;I10", [("I21.9", "急性心肌梗死"), ("I10", "高血压")]),
        ("急性心肌梗死；高血压", "i21.9, i10", [("I21.9", "急性心肌梗死"), ("I10", "高血压")]),
        ("2型糖尿病", "E11.900", [("E11.900", "2型糖尿病")]),
        ("多发伤", "T07", [("T07", "多发伤")]),
        ("股骨颈骨折", "", [("", "股骨颈骨折")]),
        ("", "S72.0", [("S72.0", "")]),
        ("高血压;冠心病", "I10", [("I10", "高血压"), ("", "冠心病")]),
        ("", "", []),
    ],
)
def test_diagnoses_pair_texts_and_icd10_codes_principal_first_P2(diagnosis, icd10, expected):
    assert ok(diagnosis=diagnosis, icd10=icd10).diagnoses == expected


@pytest.mark.parametrize("code", ["I10.x00x002", "K35.800x001", "i10"])
def test_national_clinical_version_codes_are_accepted_P2(code):
    assert ok(diagnosis="诊断", icd10=code).diagnoses == [(code[:1].upper() + code[1:], "诊断")]


@pytest.mark.parametrize("code", ["I2", "121.0", "I21.", "I21.9000000000000", "II1.0", "高血压"])
def test_malformed_icd10_code_is_a_row_problem_P2(code):
    assert only_problem(icd10=code) == FieldProblem(
        "icd10", code, f"ICD-10 编码“{code[:1].upper() + code[1:]}”格式不正确"
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1", "1"),
        ("2", "2"),
        ("3", "3"),
        ("4", "4"),
        ("5", "5"),
        ("9", "9"),
        ("医嘱离院", "1"),
        ("医嘱转院", "2"),
        ("医嘱转社区/乡镇卫生院", "3"),
        ("非医嘱离院", "4"),
        ("死亡", "5"),
        ("其他", "9"),
        ("", ""),
    ],
)
def test_dispositions_by_code_and_by_name_P2(text, code):
    assert ok(disposition=text).disposition == code


@pytest.mark.parametrize("text", ["0", "6", "出院", "死"])
def test_unknown_disposition_is_a_row_problem_P2(text):
    assert only_problem(disposition=text) == FieldProblem(
        "disposition", text, "离院方式应为代码 1–5、9 或其名称"
    )


BOOLEAN_COLUMNS = ["first_visit", "cleared_out", "special", "chronic", "lost", "dispute", "refused"]


@pytest.mark.parametrize("column", BOOLEAN_COLUMNS)
@pytest.mark.parametrize(("text", "value"), [("是", True), ("否", False), ("", False)])
def test_yes_no_columns_P2(column, text, value):
    assert getattr(ok(**{column: text}), column) is value


@pytest.mark.parametrize("column", BOOLEAN_COLUMNS)
def test_yes_no_column_with_another_word_is_a_row_problem_S5(column):
    assert only_problem(**{column: "也许"}) == FieldProblem(column, "也许", "应为 是 或 否")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("12,345.60元", Decimal("12345.60")),
        ("12345.6", Decimal("12345.60")),
        ("8000", Decimal("8000.00")),
        ("8000元", Decimal("8000.00")),
        ("1,234,567.891", Decimal("1234567.89")),
        ("0", Decimal("0.00")),
        ("9999999999.99", Decimal("9999999999.99")),
        ("", None),
    ],
)
def test_total_cost_in_yuan_with_commas_P2(text, amount):
    assert ok(total_cost=text).total_cost == amount


@pytest.mark.parametrize("text", ["-1", "abc", "¥100", "10000000000", "NaN", "Infinity"])
def test_bad_total_cost_is_a_row_problem_S5(text):
    assert only_problem(total_cost=text) == FieldProblem(
        "total_cost", text, "总费用应为不小于 0 的金额（元）"
    )


@pytest.mark.parametrize(
    ("inferred", "visit_type", "expected"),
    [
        ("inpatient", "", "inpatient"),  # a 住院号 header and no 就诊类型 column
        ("outpatient", "", "outpatient"),  # a 门诊号 header
        ("inpatient", "急诊", "emergency"),  # the row's own 就诊类型 wins
        ("", "住院", "inpatient"),
        ("", "门诊", "outpatient"),
        ("", "急诊", "emergency"),
        ("", "Inpatient", "inpatient"),
        ("", "OUTPATIENT", "outpatient"),
    ],
)
def test_visit_type_from_the_column_or_the_visit_number_header_P2(inferred, visit_type, expected):
    fields = {"visit_type": visit_type, "visit_at": "2024-06-01 09:00"}
    row, problems = parse(inferred, **fields)
    assert problems == []
    assert row.visit_type == expected


def test_no_visit_type_and_no_header_to_infer_it_from_S5():
    assert only_problem(visit_type="") == FieldProblem(
        "visit_type", "", "缺少就诊类型（住院/门诊/急诊）"
    )


def test_unknown_visit_type_S5():
    assert only_problem(visit_type="体检") == FieldProblem(
        "visit_type", "体检", "应为 住院、门诊 或 急诊"
    )


@pytest.mark.parametrize("column", ["patient_no", "name", "visit_no", "department"])
def test_required_values_S5(column):
    assert only_problem(**{column: "  "}) == FieldProblem(column, "  ", "不能为空")


@pytest.mark.parametrize(
    ("column", "limit"),
    [("patient_no", 64), ("name", 64), ("visit_no", 64), ("department", 64), ("address", 200)],
)
def test_overlong_text_S5(column, limit):
    text = "长" * (limit + 1)
    assert only_problem(**{column: text}) == FieldProblem(column, text, f"不能超过 {limit} 个字符")


def test_every_problem_of_a_row_is_reported_S5():
    row, problems = parse(
        name="",
        sex="X",
        phone="123",
        id_number="110105194912310021",
        discharged_at="2024-04-01 00:00",
        disposition="7",
        chronic="大概",
        total_cost="-5",
    )
    assert row is None
    assert [p.column for p in problems] == [
        "name",
        "sex",
        "phone",
        "id_number",
        "discharged_at",
        "disposition",
        "chronic",
        "total_cost",
    ]
    assert all(LABELS[p.column] for p in problems)


# §9's table, both languages, as the spec writes them.
SPEC_HEADERS = [
    ("病历号", "patient_no"), ("ID号", "patient_no"), ("patient_id", "patient_no"),
    ("姓名", "name"), ("name", "name"), ("性别", "sex"), ("sex", "sex"),
    ("出生日期", "birth_date"), ("birth_date", "birth_date"), ("年龄", "age"), ("age", "age"),
    ("联系电话", "phone"), ("phone", "phone"), ("身份证号", "id_number"),
    ("id_number", "id_number"), ("家庭住址", "address"), ("address", "address"),
    ("就诊类型", "visit_type"), ("visit_type", "visit_type"), ("住院号", "visit_no"),
    ("门诊号", "visit_no"), ("visit_no", "visit_no"), ("科室", "department"),
    ("department", "department"), ("初诊", "first_visit"), ("first_visit", "first_visit"),
    ("入院时间", "admitted_at"), ("admitted_at", "admitted_at"), ("出院时间", "discharged_at"),
    ("discharged_at", "discharged_at"), ("就诊时间", "visit_at"), ("visit_at", "visit_at"),
    ("出院诊断", "diagnosis"), ("诊断", "diagnosis"), ("diagnosis", "diagnosis"),
    ("诊断编码", "icd10"), ("icd10", "icd10"), ("离院方式", "disposition"),
    ("disposition", "disposition"), ("欠费清理", "cleared_out"), ("cleared_out", "cleared_out"),
    ("主管医生", "attending_doctor"), ("attending_doctor", "attending_doctor"),
    ("责任护士", "responsible_nurse"), ("responsible_nurse", "responsible_nurse"),
    ("总费用", "total_cost"), ("total_cost", "total_cost"), ("特殊病人", "special"),
    ("special", "special"), ("慢病", "chronic"), ("chronic", "chronic"), ("流失", "lost"),
    ("lost", "lost"), ("医疗纠纷", "dispute"), ("dispute", "dispute"), ("拒访", "refused"),
    ("refused", "refused"),
]  # fmt: skip


@pytest.mark.parametrize(("header", "column"), SPEC_HEADERS)
def test_every_section_9_header_in_both_languages_and_any_case_9(header, column):
    for variant in (header, header.upper(), header.title()):
        hm = HeaderMap.build(COLUMNS, [variant])
        assert (hm.index, hm.unknown) == ({column: 0}, [])


def test_required_columns_are_the_spec_ones_9():
    assert [c.name for c in COLUMNS if c.required] == ["patient_no", "name", "visit_no"]
