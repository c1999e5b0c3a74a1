"""F6 calendar pages: who may see and change the calendar (O2), the year view, the override
form and the file upload. Permissions are granted explicitly so these tests do not depend on
the role table."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from careloop.accounts.roles import Role
from careloop.audit.models import AuditEvent
from careloop.calendars.models import CalendarDay, CalendarYear
from careloop.calendars.services import save_override

pytestmark = pytest.mark.django_db
D = date.fromisoformat


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def supervisor(org, make_user):
    user = make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]])
    return grant(user, "view_calendarday", "change_calendarday")


@pytest.fixture
def viewer(org, make_user):
    return grant(make_user("viewer", Role.AGENT), "view_calendarday")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_nurse_is_refused_every_calendar_page_and_changes_nothing_O2(personas):
    override = save_override(day=D("2026-10-09"), is_workday=False, name="院庆")
    before = list(CalendarDay.objects.values_list("date", "is_workday", "name"))
    client = client_for(personas["cardio_nurse"])
    events = AuditEvent.objects.exclude(action="access_denied").count()
    assert client.get("/calendar/").status_code == 403
    assert client.get("/calendar/days/add/").status_code == 403
    form = {"date": "2026-10-12", "is_workday": "0", "name": "x"}
    assert client.post("/calendar/days/add/", form).status_code == 403
    assert client.post(f"/calendar/days/{override.pk}/edit/", form).status_code == 403
    assert client.post(f"/calendar/days/{override.pk}/delete/").status_code == 403
    upload = SimpleUploadedFile("2027.csv", "2027-10-09,是,调休\n".encode())
    assert client.post("/calendar/upload/", {"file": upload}).status_code == 403
    assert list(CalendarDay.objects.values_list("date", "is_workday", "name")) == before
    assert CalendarYear.objects.count() == 0
    assert AuditEvent.objects.exclude(action="access_denied").count() == events


def test_viewer_sees_the_year_but_cannot_change_it_F6(viewer):
    save_override(day=D("2026-10-09"), is_workday=False, name="院庆")
    client = client_for(viewer)
    html = client.get("/calendar/", {"year": 2026}).content.decode()
    assert "2026 年工作日历" in html
    assert 'data-date="2026-10-09" data-workday="0"' in html
    assert "院庆" in html
    assert "/calendar/days/add/" not in html
    assert client.get("/calendar/days/add/").status_code == 403
    assert client.post("/calendar/upload/").status_code == 403


def test_year_view_colours_adjusted_days_and_holidays_F6(viewer):
    html = client_for(viewer).get("/calendar/", {"year": 2026}).content.decode()
    assert html.count("<caption") == 12
    assert 'data-date="2026-09-20" data-workday="1"' in html
    assert 'data-date="2026-10-01" data-workday="0"' in html
    assert 'data-date="2026-10-10" data-workday="1"' in html
    assert 'data-date="2026-10-11" data-workday="0"' in html
    assert html.count('data-workday="') == 365
    assert "尚未载入" not in html


def test_unofficial_year_shows_the_warning_banner_F6(viewer):
    html = client_for(viewer).get("/calendar/", {"year": 2027}).content.decode()
    assert "2027 年的官方调休安排尚未载入：" in html
    assert 'data-date="2027-10-01" data-workday="0"' in html
    assert 'data-date="2027-03-06" data-workday="0"' in html


def test_supervisor_is_warned_about_next_year_from_november_F6(supervisor, time_machine):
    time_machine.move_to("2026-11-23 09:00 +08:00")
    html = client_for(supervisor).get("/calendar/").content.decode()
    assert "2026 年工作日历" in html
    assert "2027 年的官方调休安排尚未载入：" in html


def test_bad_year_parameter_is_explained_not_a_500_S5(viewer, time_machine):
    time_machine.move_to("2026-06-01 09:00 +08:00")
    response = client_for(viewer).get("/calendar/", {"year": "二〇二七"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "年份“二〇二七”无效" in html and "2026 年工作日历" in html


def test_supervisor_adds_an_override_and_the_page_shows_it_F6(supervisor):
    client = client_for(supervisor)
    assert client.get("/calendar/days/add/", {"date": "2026-10-09"}).status_code == 200
    response = client.post(
        "/calendar/days/add/", {"date": "2026-10-09", "is_workday": "0", "name": "院庆放假"}
    )
    assert response.status_code == 302 and response["Location"] == "/calendar/?year=2026"
    row = CalendarDay.objects.get(date=D("2026-10-09"))
    assert (row.is_workday, row.name, row.source, row.updated_by) == (
        False,
        "院庆放假",
        "manual",
        supervisor,
    )
    html = client.get(response["Location"]).content.decode()
    assert 'data-date="2026-10-09" data-workday="0"' in html
    assert "院庆放假" in html
    assert f"/calendar/days/{row.pk}/edit/" in html
    event = AuditEvent.objects.get(action="create", object_type="calendars.calendarday")
    assert event.actor_id == supervisor.pk


def test_override_form_errors_are_clear_and_in_chinese_S5(supervisor):
    save_override(day=D("2026-10-09"), is_workday=False)
    client = client_for(supervisor)
    html = client.post(
        "/calendar/days/add/", {"date": "2026-10-09", "is_workday": "1", "name": ""}
    ).content.decode()
    assert "2026-10-09 已有一条调整" in html
    html = client.post("/calendar/days/add/", {"date": "", "name": "长" * 65}).content.decode()
    assert "请填写日期。" in html
    assert "请选择这一天上班还是休息。" in html
    assert "名称最多 64 个字（现在 65 个）。" in html
    html = client.post("/calendar/days/add/", {"date": "10/9", "is_workday": "1"}).content.decode()
    assert "日期格式不对" in html
    assert CalendarDay.objects.count() == 1


def test_supervisor_edits_and_deletes_an_override_F6(supervisor):
    override = save_override(day=D("2026-10-09"), is_workday=False, name="院庆")
    client = client_for(supervisor)
    page = client.get(f"/calendar/days/{override.pk}/edit/").content.decode()
    assert 'value="2026-10-09"' in page and 'value="院庆"' in page
    response = client.post(
        f"/calendar/days/{override.pk}/edit/",
        {"date": "2026-10-09", "is_workday": "1", "name": "调休上班"},
    )
    assert response.status_code == 302
    override.refresh_from_db()
    assert (override.is_workday, override.name) == (True, "调休上班")
    assert client.get(f"/calendar/days/{override.pk}/delete/").status_code == 200
    assert CalendarDay.objects.count() == 1  # GET only asks
    response = client.post(f"/calendar/days/{override.pk}/delete/")
    assert response.status_code == 302 and CalendarDay.objects.count() == 0
    assert AuditEvent.objects.filter(
        action="delete", object_type="calendars.calendarday", actor_id=supervisor.pk
    ).exists()


def test_upload_loads_the_file_with_the_same_loader_F6(supervisor):
    client = client_for(supervisor)
    upload = SimpleUploadedFile(
        "2027年放假安排.csv", "日期,是否工作日,名称\n2027/10/9,班,国庆节调休上班\n".encode("gbk")
    )
    response = client.post("/calendar/upload/", {"file": upload})
    assert response.status_code == 302 and response["Location"] == "/calendar/?year=2027"
    year = CalendarYear.objects.get(year=2027)
    assert (year.days, year.source_name, year.loaded_by) == (1, "2027年放假安排.csv", supervisor)
    html = client.get(response["Location"]).content.decode()
    assert "已载入官方日历：2027 年 1 天" in html
    assert 'data-date="2027-10-09" data-workday="1"' in html
    assert "2027 年的官方调休安排尚未载入" not in html


def test_upload_of_a_bad_file_shows_every_line_error_and_writes_nothing_S5(supervisor):
    upload = SimpleUploadedFile(
        "bad.csv",
        "日期,是否工作日,名称\n2027-10-01,否,国庆节\n2027-10-32,否,国庆节\n"
        "2027-10-04,否,\n2027-10-09,可能,调休\n".encode(),
    )
    response = client_for(supervisor).post("/calendar/upload/", {"file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert "日历文件有 2 处错误，未载入任何数据。" in html
    assert "<td>3</td><td>日期</td><td>2027-10-32</td>" in html
    assert "<td>5</td><td>是否工作日</td><td>可能</td>" in html
    assert CalendarDay.objects.count() == 0 and CalendarYear.objects.count() == 0


def test_upload_refuses_other_file_types_S5(supervisor):
    upload = SimpleUploadedFile("2027.xlsx", b"PK\x03\x04")
    html = client_for(supervisor).post("/calendar/upload/", {"file": upload}).content.decode()
    assert "不支持的文件类型“.xlsx”：请上传 .csv 文件。" in html
    assert CalendarYear.objects.count() == 0
