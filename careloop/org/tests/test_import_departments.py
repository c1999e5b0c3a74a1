"""§9 departments sheet through `careloop import departments FILE`."""

from __future__ import annotations

import csv
import subprocess
import sys

import openpyxl
import pytest
from django.core.management import call_command

from careloop.org.models import Campus, Department

pytestmark = pytest.mark.django_db

ROWS_ZH = [
    ["科室编码", "科室名称", "类别", "院区"],
    ["XNK", "心血管内科病区", "住院病区", "总院"],
    ["MZ-YK", "眼科门诊", "专科门诊", "总院"],
    ["MZ-NK", "内科门诊", "基础门诊", "东院"],
    ["JZK", "急诊科", "急诊", ""],
    ["YWK", "医务科", "职能", ""],
]


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def run(path, *args):
    try:
        call_command("import", "departments", str(path), *args)
    except SystemExit as exc:
        return exc.code
    return 0


def snapshot():
    return sorted(Department.objects.values_list("code", "name", "kind", "campus__name"))


EXPECTED = [
    ("JZK", "急诊科", "emergency", None),
    ("MZ-NK", "内科门诊", "basic", "东院"),
    ("MZ-YK", "眼科门诊", "specialist", "总院"),
    ("XNK", "心血管内科病区", "inpatient", "总院"),
    ("YWK", "医务科", "functional", None),
]


def test_chinese_headers_csv(tmp_path):
    assert run(write_csv(tmp_path / "d.csv", ROWS_ZH)) == 0
    assert snapshot() == EXPECTED
    assert sorted(Campus.objects.values_list("name", flat=True)) == ["东院", "总院"]


def test_english_headers_any_case(tmp_path):
    rows = [["Code", "NAME", "kind", "Campus"]] + [
        [
            r[0],
            r[1],
            {
                "住院病区": "inpatient",
                "专科门诊": "specialist clinic",
                "基础门诊": "basic",
                "急诊": "emergency",
                "职能": "Functional",
            }[r[2]],
            r[3],
        ]
        for r in ROWS_ZH[1:]
    ]
    assert run(write_csv(tmp_path / "d.csv", rows)) == 0
    assert snapshot() == EXPECTED


def test_gb18030_csv(tmp_path):
    assert run(write_csv(tmp_path / "d.csv", ROWS_ZH, encoding="gb18030")) == 0
    assert snapshot() == EXPECTED


def test_xlsx(tmp_path):
    book = openpyxl.Workbook()
    for row in ROWS_ZH:
        book.active.append(row)
    book.save(tmp_path / "d.xlsx")
    assert run(tmp_path / "d.xlsx") == 0
    assert snapshot() == EXPECTED


def test_reimport_changes_nothing_and_a_changed_row_updates(tmp_path, capsys):
    path = write_csv(tmp_path / "d.csv", ROWS_ZH)
    run(path)
    capsys.readouterr()
    run(path)
    assert "新增 0，更新 0，未变 5，失败 0 行" in capsys.readouterr().out
    rows = [r[:] for r in ROWS_ZH]
    rows[2][1] = "眼科专科门诊"
    run(write_csv(tmp_path / "d2.csv", rows))
    assert "新增 0，更新 1，未变 4" in capsys.readouterr().out
    assert Department.objects.get(code="MZ-YK").name == "眼科专科门诊"


def test_dry_run_writes_nothing(tmp_path, capsys):
    assert run(write_csv(tmp_path / "d.csv", ROWS_ZH), "--dry-run") == 0
    assert Department.objects.count() == 0
    assert "新增 5" in capsys.readouterr().out


def test_bad_rows_are_reported_with_row_column_value_and_reason(tmp_path, capsys):
    rows = [
        *ROWS_ZH,
        ["", "无编码科室", "职能", ""],
        ["XNK", "重复", "住院病区", ""],
        ["EK", "儿科", "病房楼", ""],
    ]
    code = run(write_csv(tmp_path / "d.csv", rows))
    assert code == 1
    err = capsys.readouterr().err
    report_path = err.strip().splitlines()[-1].split("错误报告：", 1)[1]
    with open(report_path, encoding="utf-8-sig") as fh:
        report = list(csv.reader(fh))
    assert report[0] == ["行号", "列", "值", "原因"]
    assert report[1] == ["7", "科室编码", "", "科室编码不能为空"]
    assert report[2] == ["8", "科室编码", "XNK", "与第 2 行的科室编码重复"]
    assert report[3][:3] == ["9", "类别", "病房楼"]
    # The good rows were imported.
    assert snapshot() == EXPECTED


def test_strict_imports_nothing_when_a_row_fails(tmp_path):
    rows = [*ROWS_ZH, ["EK", "儿科", "病房楼", ""]]
    assert run(write_csv(tmp_path / "d.csv", rows), "--strict") == 1
    assert Department.objects.count() == 0


def test_missing_required_column_is_a_file_error(tmp_path, capsys):
    code = run(write_csv(tmp_path / "d.csv", [["科室编码", "类别"], ["X", "职能"]]))
    assert code == 2
    assert "缺少必需的列：科室名称（name）" in capsys.readouterr().err
    assert Department.objects.count() == 0


def test_unsupported_file_and_missing_file(tmp_path, capsys):
    (tmp_path / "d.pdf").write_bytes(b"%PDF")
    assert run(tmp_path / "d.pdf") == 2
    assert "不支持的文件类型" in capsys.readouterr().err
    assert run(tmp_path / "none.csv") == 2
    assert "文件不存在" in capsys.readouterr().err


def test_name_taken_by_another_code_is_a_row_error(tmp_path, capsys):
    Department.objects.create(code="OLD", name="医务科", kind="functional")
    assert run(write_csv(tmp_path / "d.csv", ROWS_ZH)) == 1
    assert "该名称已被科室编码 OLD 使用" in capsys.readouterr().err


def test_command_line_exit_status_and_no_traceback(tmp_path):
    """The real `careloop` command, as a hospital's script would call it."""
    path = write_csv(tmp_path / "d.csv", [["科室编码", "科室名称"], ["X", "Y"]])
    result = subprocess.run(
        [sys.executable, "-m", "careloop", "import", "departments", str(path), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "缺少必需的列：类别（kind）" in result.stderr
    assert "Traceback" not in result.stderr
