"""Reading HIS exports (`careloop.lib.tabular`): header mapping, encodings, blank rows, row
numbers as Excel shows them, xlsx through calamine, and file errors in Chinese (§9, S5)."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from careloop.lib.tabular import (
    Column,
    HeaderMap,
    TabularError,
    cell_text,
    count_data_rows,
    detect_encoding,
    iter_raw_rows,
    read_table,
)

COLUMNS = [
    Column("patient_no", ("病历号", "ID号", "patient_id"), required=True, label="病历号"),
    Column("name", ("姓名", "name"), required=True, label="姓名"),
    Column("visit_no", ("住院号", "门诊号", "visit_no"), label="住院号/门诊号"),
    Column("phone", ("联系电话", "phone"), label="联系电话"),
]

TEXT = "病历号,姓名,联系电话\nP0001,张三,13812345678\nP0002,李四,\n"


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def table(path, columns=COLUMNS):
    hm, rows = read_table(path, columns)
    return hm, list(rows)


@pytest.mark.parametrize(
    "header",
    [
        "patient_id",
        "PATIENT_ID",
        "Patient_Id",
        "patient id",
        "Patient ID",
        " patient_id ",
        "patient-id",
        "patientid",
        "PatientId",
        "病历号",
        " 病 历 号 ",
        "ID号",
        "id号",
        "patient_no",  # the canonical name itself
    ],
)
def test_headers_match_case_insensitively_ignoring_spaces_and_underscores_9(header):
    hm = HeaderMap.build(COLUMNS, [header, "姓名"])
    assert hm.index == {"patient_no": 0, "name": 1}
    assert hm.unknown == []


def test_unknown_headers_are_listed_and_blank_ones_ignored_9():
    hm = HeaderMap.build(COLUMNS, ["备注", "病历号", "", "Name", "Ward", "  "])
    assert hm.index == {"patient_no": 1, "name": 3}
    assert hm.unknown == ["备注", "Ward"]


def test_first_of_two_headers_for_one_column_wins_9():
    hm = HeaderMap.build(COLUMNS, ["住院号", "病历号", "门诊号", "姓名"])
    assert hm.index == {"visit_no": 0, "patient_no": 1, "name": 3}
    assert hm.header_of("visit_no") == "住院号"
    assert hm.header_of("phone") == ""


def test_missing_required_and_row_values_9():
    hm = HeaderMap.build(COLUMNS, ["姓名", "联系电话"])
    assert [c.name for c in hm.missing_required()] == ["patient_no"]
    # A short row (a csv line with fewer cells) reads as empty cells, never an IndexError.
    assert hm.row(["张三"]) == {"name": "张三", "phone": ""}
    assert hm.row([" 张三 ", 13812345678.0]) == {"name": "张三", "phone": "13812345678"}


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("gb18030", "gb18030")],
)
def test_encodings_are_detected_and_read_alike_9(tmp_path, encoding, detected):
    path = write(tmp_path / "v.csv", TEXT, encoding)
    assert detect_encoding(path) == detected
    hm, rows = table(path)
    assert hm.headers == ["病历号", "姓名", "联系电话"]  # no BOM glued to the first header
    assert rows == [
        (2, {"patient_no": "P0001", "name": "张三", "phone": "13812345678"}),
        (3, {"patient_no": "P0002", "name": "李四", "phone": ""}),
    ]


def test_gbk_only_characters_and_rare_gb18030_characters_9(tmp_path):
    text = "病历号,姓名\nP1,欧阳䶮\nP2,𠀀\n"  # 䶮 is outside GB2312; 𠀀 needs four bytes
    path = write(tmp_path / "v.csv", text, "gb18030")
    assert detect_encoding(path) == "gb18030"
    assert [r["name"] for _n, r in table(path)[1]] == ["欧阳䶮", "𠀀"]


def test_utf8_file_larger_than_the_sample_with_a_character_cut_at_its_end_9(tmp_path):
    # The 1 MiB sample ends inside a three-byte character: still UTF-8, not GB18030.
    head = "病历号,姓名\n"
    filler = "P1,张三\n"
    body = filler * ((1 << 20) // len(filler.encode()) + 10)
    data = (head + body).encode()
    assert data[(1 << 20) - 1] >= 0x80  # the cut falls inside 张 or 三
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    assert detect_encoding(path) == "utf-8"


def test_undecodable_csv_is_a_file_error_in_chinese_S5(tmp_path):
    path = tmp_path / "v.csv"
    path.write_bytes("病历号,姓名\n".encode() + b"P1,\xff\xff\n")
    with pytest.raises(TabularError) as exc:
        table(path)
    assert str(exc.value) == "文件编码无法识别（既不是 UTF-8 也不是 GB18030）：v.csv"


def test_blank_rows_are_skipped_and_numbers_are_excel_rows_9(tmp_path):
    text = "病历号,姓名\n\nP0001,张三\n,,\n  , \nP0002,李四\n\n"
    _hm, rows = table(write(tmp_path / "v.csv", text))
    # Header = row 1; the blank line is row 2, so the first patient is on row 3.
    assert rows == [(3, {"patient_no": "P0001", "name": "张三"}), (6, {"patient_no": "P0002", "name": "李四"})]  # fmt: skip


def test_quoted_cells_with_commas_and_line_breaks_9(tmp_path):
    text = '病历号,姓名,联系电话\nP0001,"张,三","138 1234 5678\n139 0000 1111"\nP0002,李四,\n'
    rows = table(write(tmp_path / "v.csv", text))[1]
    assert rows[0] == (2, {"patient_no": "P0001", "name": "张,三", "phone": "138 1234 5678\n139 0000 1111"})  # fmt: skip
    assert rows[1][1]["patient_no"] == "P0002"


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("h\na\nb\nc\n", 3),
        ("h\na\nb\nc", 3),
        ("h\r\na\r\nb\r\nc\r\n", 3),
        ("h\r\na\r\nb\r\nc", 3),
        ("h\n", 0),
        ("h", 0),
        ("", 0),
        ("h\na\n\nb\n", 3),  # a blank row is counted (the count is for a progress bar)
    ],
)
def test_count_data_rows_with_and_without_trailing_newline_9(tmp_path, text, count):
    assert count_data_rows(write(tmp_path / "v.csv", text)) == count


def test_count_data_rows_across_read_chunks_9(tmp_path):
    # More than one 1 MiB chunk, the last one ending without a newline.
    path = write(tmp_path / "v.csv", "h\n" + "\n".join(["P1,张三"] * 200_000))
    assert count_data_rows(path) == 200_000


def write_xlsx(path, rows, sheet_title=None):
    book = openpyxl.Workbook()
    ws = book.active
    if sheet_title:
        ws.title = sheet_title
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def test_xlsx_through_calamine_with_date_number_and_blank_cells_9(tmp_path):
    columns = [
        *COLUMNS,
        Column("birth_date", ("出生日期",)),
        Column("admitted_at", ("入院时间",)),
        Column("total_cost", ("总费用",)),
    ]
    path = write_xlsx(
        tmp_path / "v.xlsx",
        [
            ["Patient ID", "NAME", "联系电话", "出生日期", "入院时间", "总费用"],
            [
                "P0001",
                "张三",
                13812345678,
                dt.date(1949, 12, 31),
                dt.datetime(2024, 5, 1, 8, 30),
                12345.6,
            ],
            [None, None, None, None, None, None],
            [
                101,
                " 李四 ",
                "13900001111",
                dt.datetime(1980, 1, 2),
                dt.datetime(2024, 5, 3, 0, 0),
                8000,
            ],
        ],
    )
    assert count_data_rows(path) == 3
    hm, rows = read_table(path, columns)
    assert hm.unknown == []
    rows = list(rows)
    assert rows == [
        (2, {"patient_no": "P0001", "name": "张三", "phone": "13812345678", "birth_date": "1949-12-31",
             "admitted_at": "2024-05-01 08:30:00", "total_cost": "12345.6"}),
        (4, {"patient_no": "101", "name": "李四", "phone": "13900001111", "birth_date": "1980-01-02",
             "admitted_at": "2024-05-03", "total_cost": "8000"}),
    ]  # fmt: skip


def test_xlsx_named_sheet_and_missing_sheet_S5(tmp_path):
    path = tmp_path / "v.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["这是说明页"])
    data = book.create_sheet("就诊")
    data.append(["病历号", "姓名"])
    data.append(["P0001", "张三"])
    book.save(path)
    assert list(read_table(path, COLUMNS, sheet="就诊")[1]) == [
        (2, {"patient_no": "P0001", "name": "张三"})
    ]
    assert count_data_rows(path, sheet="就诊") == 1
    with pytest.raises(TabularError) as exc:
        list(iter_raw_rows(path, sheet="出院"))
    assert str(exc.value) == "Excel 文件中没有名为“出院”的工作表（现有：说明、就诊）"


def test_broken_xlsx_is_a_file_error_in_chinese_S5(tmp_path):
    path = tmp_path / "v.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(TabularError) as exc:
        list(iter_raw_rows(path))
    assert str(exc.value).startswith("无法读取 Excel 文件 v.xlsx：")


@pytest.mark.parametrize("name", ["v.pdf", "v.json", "v"])
def test_unsupported_extension_is_a_file_error_in_chinese_S5(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(TabularError) as exc:
        read_table(path, COLUMNS)
    suffix = path.suffix.lower()
    assert str(exc.value) == f"不支持的文件类型“{suffix}”：请使用 .csv 或 .xlsx"


def test_missing_file_empty_file_and_missing_required_columns_S5(tmp_path):
    with pytest.raises(TabularError) as exc:
        read_table(tmp_path / "none.csv", COLUMNS)
    assert str(exc.value) == f"文件不存在：{tmp_path / 'none.csv'}"

    with pytest.raises(TabularError) as exc:
        read_table(write(tmp_path / "empty.csv", ""), COLUMNS)
    assert str(exc.value) == "文件是空的：没有表头行"

    with pytest.raises(TabularError) as exc:
        read_table(write(tmp_path / "v.csv", "联系电话,备注\n1,2\n"), COLUMNS)
    assert str(exc.value) == "缺少必需的列：病历号（patient_no）、姓名（name）"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("  张三 ", "张三"),
        (101.0, "101"),
        (13812345678.0, "13812345678"),
        (12345.6, "12345.6"),
        (7, "7"),
        (dt.datetime(2024, 5, 1, 8, 30), "2024-05-01 08:30:00"),
        (dt.datetime(2024, 5, 1), "2024-05-01"),
        (dt.date(1949, 12, 31), "1949-12-31"),
        (dt.timedelta(hours=8, minutes=30), "8:30:00"),
        (True, "True"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text
