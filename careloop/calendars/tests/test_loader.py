"""F6 loading the official calendar file; S4 all or nothing; S5 every bad line named in Chinese."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from careloop.audit.models import AuditEvent
from careloop.calendars.loader import load_calendar, parse_rows
from careloop.calendars.models import CalendarDay, CalendarYear
from careloop.calendars.services import get_calendar, save_override, unloaded_years, warnings_for

pytestmark = pytest.mark.django_db
D = date.fromisoformat

CSV_2027 = """日期,是否工作日,名称
2027-10-01,否,国庆节
2027-10-04,休,国庆节
2027-10-05,休,国庆节
2027/10/9,班,国庆节调休上班
"""


def write(tmp_path, text, encoding="utf-8", name="2027.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(*args):
    try:
        call_command("calendar", *args)
    except SystemExit as exc:
        return exc.code
    return 0


def table():
    return sorted(CalendarDay.objects.values_list("date", "is_workday", "name", "source"))


def test_loading_2027_makes_its_working_saturday_a_working_day_and_ends_the_warning_F6(
    tmp_path, make_user
):
    from django.contrib.auth.models import Permission

    admin = make_user("cal.admin")
    admin.user_permissions.add(Permission.objects.get(codename="change_calendarday"))
    admin = type(admin).objects.get(pk=admin.pk)
    assert get_calendar().is_workday(D("2027-10-09")) is False
    assert get_calendar().is_workday(D("2027-10-04")) is True
    assert len(warnings_for(admin, date(2026, 11, 23))) == 1

    result = load_calendar(write(tmp_path, CSV_2027), by=admin)

    assert result.ok and result.years == {2027: 4}
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    cal = get_calendar()
    assert cal.is_workday(D("2027-10-09")) is True
    assert cal.is_workday(D("2027-10-04")) is False
    assert cal.is_workday(D("2027-10-01")) is False
    assert unloaded_years(date(2026, 11, 23)) == []
    assert warnings_for(admin, date(2026, 11, 23)) == []
    year = CalendarYear.objects.get(year=2027)
    assert (year.days, year.loaded_by, year.source_name) == (4, admin, "2027.csv")
    assert table()[-1] == (D("2027-10-09"), True, "国庆节调休上班", "official")
    assert CalendarDay.objects.get(date=D("2027-10-09")).updated_by == admin


def test_load_is_audited_as_an_import_F6(tmp_path):
    load_calendar(write(tmp_path, CSV_2027))
    event = AuditEvent.objects.get(action="import")
    assert event.object_type == "calendars.calendaryear"
    assert event.object_id == "2027"
    assert "2027 年 4 天" in event.message
    assert (
        AuditEvent.objects.filter(action="create", object_type="calendars.calendarday").count() == 4
    )


def test_bad_file_writes_nothing_and_names_every_bad_line_S5(tmp_path):
    text = (
        "date,workday,name\n"
        "2027-10-01,no,National Day\n"
        "2027-13-01,no,bad month\n"
        "2027-10-02,no,National Day\n"
        "2027-10-09,maybe,adjusted\n"
    )
    result = load_calendar(write(tmp_path, text))
    assert not result.ok
    assert [(e.line, e.column, e.value) for e in result.errors] == [
        (3, "日期", "2027-13-01"),
        (5, "是否工作日", "maybe"),
    ]
    assert str(result.errors[0]).startswith("第 3 行，“日期”列，值“2027-13-01”：不是有效的日期")
    assert str(result.errors[1]).startswith(
        "第 5 行，“是否工作日”列，值“maybe”：无法识别是否工作日"
    )
    assert CalendarDay.objects.count() == 0
    assert CalendarYear.objects.count() == 0
    assert not AuditEvent.objects.filter(action="import").exists()


def test_command_exits_non_zero_with_the_chinese_error_list_S5(tmp_path, capsys):
    text = "2027-10-01,否,国庆节\n2027-10-02,否,国庆节\n2027/2/30,否,春节\n\n2027-10-09,也许,\n"
    assert run("load", str(write(tmp_path, text))) == 1
    err = capsys.readouterr().err
    assert "日历文件有 2 处错误，未载入任何数据。" in err
    assert "第 3 行，“日期”列，值“2027/2/30”" in err
    assert "第 5 行，“是否工作日”列，值“也许”" in err
    assert CalendarDay.objects.count() == 0


def test_command_loads_and_status_reports_both_years_F6(tmp_path, capsys, time_machine):
    time_machine.move_to("2026-11-23 09:00 +08:00")
    assert run("status") == 0
    out = capsys.readouterr().out
    assert "2026 年：官方安排来自内置日历库；调整 0 天（其中手工 0 天）" in out
    assert "2027 年：官方调休安排尚未载入" in out

    assert run("load", str(write(tmp_path, CSV_2027))) == 0
    assert "已载入官方日历：2027 年 4 天（新增 4，更新 0，未变 0）。" in capsys.readouterr().out
    save_override(day=D("2027-12-31"), is_workday=False, name="院庆")
    assert run("status") == 0
    out = capsys.readouterr().out
    assert "2027 年：已载入官方日历（" in out
    assert "文件 2027.csv，4 天）；调整 5 天（其中手工 1 天）" in out
    assert AuditEvent.objects.get(action="import").actor_name == "system:calendar load"


def test_command_reports_a_missing_file_S5(tmp_path, capsys):
    assert run("load", str(tmp_path / "nope.csv")) == 1
    assert "找不到文件" in capsys.readouterr().err


def test_a_file_spanning_years_marks_each_year_F6(tmp_path):
    text = "2026-12-31,否,元旦\n2027-01-01,否,元旦\n2027-01-02,否,元旦\n2028-01-01,否,元旦\n"
    result = load_calendar(write(tmp_path, text))
    assert result.years == {2026: 1, 2027: 2, 2028: 1}
    assert sorted(CalendarYear.objects.values_list("year", "days")) == [
        (2026, 1),
        (2027, 2),
        (2028, 1),
    ]


def test_reloading_updates_changed_days_and_replaces_manual_edits_F6(tmp_path):
    save_override(day=D("2027-10-09"), is_workday=False, name="手工")
    load_calendar(write(tmp_path, CSV_2027))
    changed = CSV_2027.replace("国庆节调休上班", "调休上班")
    result = load_calendar(write(tmp_path, changed))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    assert table()[-1] == (D("2027-10-09"), True, "调休上班", "official")
    assert CalendarYear.objects.get(year=2027).days == 4


@pytest.mark.parametrize(
    "text",
    [
        "2027-10-01,否,国庆节\n2027/10/9,是,调休\n",  # no header
        "date,workday,name\n2027-10-01,no,国庆节\n2027-10-09,yes,调休\n",
        "Date,Workday,Name\n2027-10-01,N,国庆节\n2027-10-09,Y,调休\n",
        "日期,工作日,名称\n2027-10-01,休息日,国庆节\n2027-10-09,工作日,调休\n",
        "名称,日期,是否工作日\n国庆节,2027-10-01,0\n调休,2027-10-09,1\n",  # any column order
        "日期,是否工作日\n2027-10-01,false\n2027-10-09,TRUE\n",  # no name column
        "# 2027 official\n2027-10-01,否,国庆节\n\n2027-10-09,班,调休\n",  # comments, blank lines
    ],
)
def test_header_variants_and_workday_spellings_F6(text):
    rows, errors = parse_rows(text)
    assert errors == []
    assert [(r.date, r.is_workday) for r in rows] == [
        (D("2027-10-01"), False),
        (D("2027-10-09"), True),
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_utf8_with_or_without_bom_and_gbk_F6(tmp_path, encoding):
    result = load_calendar(write(tmp_path, CSV_2027, encoding=encoding))
    assert result.ok, [str(e) for e in result.errors]
    assert CalendarDay.objects.get(date=D("2027-10-09")).name == "国庆节调休上班"


def test_text_and_bytes_are_accepted_F6():
    assert load_calendar(CSV_2027, source_name="paste").ok
    assert load_calendar(CSV_2027.encode("gbk")).unchanged == 4
    assert CalendarYear.objects.get(year=2027).source_name == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-10-01,否,国庆节\n2027-10-01,否,国庆节\n", (2, "日期", "与第 1 行的日期重复")),
        ("2027-10-01,,国庆节\n", (1, "是否工作日", "是否工作日不能为空")),
        (",否,国庆节\n", (1, "日期", "日期不能为空")),
        ("2027-10-01,否," + "长" * 65 + "\n", (1, "名称", "名称不能超过 64 个字")),
        ("2027.10.01,否,国庆节\n", (1, "日期", "不是有效的日期")),
        ("日期,名称\n2027-10-01,国庆节\n", (1, "是否工作日", "表头缺少必需的列")),
        ("", (0, "", "文件中没有任何日期行。")),
    ],
)
def test_each_kind_of_bad_line_is_explained_S5(text, expected):
    _rows, errors = parse_rows(text)
    line, column, reason = expected
    assert [(e.line, e.column) for e in errors] == [(line, column)]
    assert errors[0].reason.startswith(reason)
