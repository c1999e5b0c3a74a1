"""The task export (F7, S3): exactly the agreed columns, on the web page and from the command,
scoped (O3), permission-checked and audited (S2)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone
from python_calamine import CalamineWorkbook

from careloop.accounts.roles import Role
from careloop.audit.models import AuditEvent
from careloop.followup.choices import TaskStatus
from careloop.followup.exports import HEADERS
from careloop.followup.tests.uihelpers import (
    client_for,
    make_policy,
    make_stage,
    make_task,
    make_visit,
)

pytestmark = pytest.mark.django_db

FIRST_COLUMNS = [
    "patient_id",
    "visit_no",
    "policy",
    "stage",
    "channel",
    "assignee_role",
    "window_start",
    "window_end",
    "status",
    "exclusion",
]


@pytest.fixture
def tasks(org, make_user):
    policy = make_policy(slug="export-policy")
    stage = make_stage(policy, code="phone")
    nurse = make_user("n001", Role.NURSE, departments=[org["cardio"]], staff_no="N001")
    cardio = make_visit(org["cardio"], patient_no="P100", name="张心内", visit_no="Z100")
    ortho = make_visit(org["ortho"], patient_no="P200", name="李骨科", visit_no="Z200")
    return [
        make_task(stage, cardio, assignee=nurse, assignee_role="responsible_nurse"),
        make_task(
            stage,
            ortho,
            start=dt.date(2026, 3, 20),
            end=dt.date(2026, 4, 3),
            status=TaskStatus.EXCLUDED,
            exclusion="E5",
        ),
    ]


def expected_rows(tasks):
    cardio, ortho = tasks
    return [
        ["P100", "Z100", "export-policy", "phone", "phone", "responsible_nurse", "2026-03-17",
         "2026-03-23", "due", "", "XNK", "N001", "1", str(cardio.pk)],
        ["P200", "Z200", "export-policy", "phone", "phone", "agent_pool", "2026-03-20",
         "2026-04-03", "excluded", "E5", "GK", "", "1", str(ortho.pk)],
    ]  # fmt: skip


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_headers_start_with_the_agreed_columns_in_order():
    assert HEADERS[:10] == FIRST_COLUMNS
    assert HEADERS[10:] == ["department", "assignee", "sequence", "task_id"]


@pytest.fixture
def supervisor(org, make_user):
    return make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]])


def test_web_csv_has_exactly_the_columns_and_values_S3(supervisor, tasks):
    response = client_for(supervisor).get("/followup/tasks/", {"export": "1", "format": "csv"})
    assert response.status_code == 200
    rows = read_csv(b"".join(response.streaming_content).decode("utf-8"))
    assert rows == [HEADERS, *expected_rows(tasks)]
    event = AuditEvent.objects.get(action="export")
    assert (event.actor_id, event.object_type) == (supervisor.pk, "followup.followuptask")


def test_web_xlsx_has_exactly_the_columns_S3(supervisor, tasks):
    response = client_for(supervisor).get("/followup/tasks/", {"export": "1"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = [
        [("" if v is None else str(v)) for v in row]
        for row in book.active.iter_rows(values_only=True)
    ]
    assert rows == [HEADERS, *expected_rows(tasks)]


def test_web_export_follows_filters_and_scope_O3(org, make_user, tasks):
    head_nurse = make_user("headnurse.xnk", Role.HEAD_NURSE, departments=[org["cardio"]])
    response = client_for(head_nurse).get("/followup/tasks/", {"export": "1", "format": "csv"})
    rows = read_csv(b"".join(response.streaming_content).decode("utf-8"))
    assert [r[0] for r in rows] == ["patient_id", "P100"]
    supervisor = make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]])
    response = client_for(supervisor).get(
        "/followup/tasks/", {"export": "1", "format": "csv", "exclusion": "E5"}
    )
    rows = read_csv(b"".join(response.streaming_content).decode("utf-8"))
    assert [r[0] for r in rows] == ["patient_id", "P200"]


def test_export_refused_without_the_permission_and_not_audited(personas, tasks):
    client = client_for(personas["cardio_nurse"])
    assert "导出 Excel" not in client.get("/followup/tasks/").content.decode()
    response = client.get("/followup/tasks/", {"export": "1", "format": "csv"})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


def test_command_csv_to_stdout(tasks):
    out = io.StringIO()
    call_command("tasks", "export", "--format", "csv", stdout=out, stderr=io.StringIO())
    assert read_csv(out.getvalue()) == [HEADERS, *expected_rows(tasks)]
    event = AuditEvent.objects.get(action="export")
    assert (event.actor_name, event.object_type) == ("system:tasks export", "followup.followuptask")
    assert "导出回访任务 2 条（csv，全部）" in event.message


def test_command_filters(tasks):
    out = io.StringIO()
    call_command("tasks", "export", "--department", "GK", "--status", "excluded",
                 "--policy", "export-policy", stdout=out, stderr=io.StringIO())  # fmt: skip
    assert read_csv(out.getvalue()) == [HEADERS, expected_rows(tasks)[1]]


def test_command_csv_and_xlsx_files(tasks, tmp_path):
    csv_path = tmp_path / "t.csv"
    call_command("tasks", "export", "--output", str(csv_path), stderr=io.StringIO())
    assert read_csv(csv_path.read_text(encoding="utf-8-sig")) == [HEADERS, *expected_rows(tasks)]

    xlsx_path = tmp_path / "t.xlsx"
    err = io.StringIO()
    call_command("tasks", "export", "--format", "xlsx", "--output", str(xlsx_path), stderr=err)
    assert "已导出 2 条回访任务" in err.getvalue()
    rows = CalamineWorkbook.from_path(str(xlsx_path)).get_sheet_by_index(0).to_python()
    as_text = [[str(int(v)) if isinstance(v, float) else str(v) for v in row] for row in rows]
    assert as_text == [HEADERS, *expected_rows(tasks)]


def test_command_xlsx_default_file_name(tasks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    call_command("tasks", "export", "--format", "xlsx", stderr=io.StringIO())
    (path,) = tmp_path.glob("tasks-*.xlsx")
    assert path.name == f"tasks-{timezone.localdate():%Y%m%d}.xlsx"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "nope"], "没有代码为“nope”的回访制度；可用："),
        (["--status", "done"], "未知的任务状态“done”"),
        (["--department", "ZZZ"], "没有编码为“ZZZ”的科室"),
    ],
)
def test_command_rejects_unknown_filters_in_chinese(db, args, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("tasks", "export", *args, stdout=io.StringIO())
