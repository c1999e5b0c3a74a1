"""P4.1 upload page: preview, dry run, background run with progress, summary, error report."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from careloop.accounts.roles import Role
from careloop.audit.models import AuditEvent
from careloop.intake.models import ImportRun
from careloop.patients.models import Patient, Visit

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "病历号,姓名,性别,联系电话,住院号,科室,入院时间,出院时间,出院诊断,诊断编码,离院方式\n"
    "P001,张三,男,13812345678,Z001,XNK,2026-11-01 09:00,2026-11-08 10:00,冠心病,I25.1,1\n"
    "P002,李四,女,13800000000,Z002,GK,2026-11-02 09:00,2026-11-05 10:00,骨折,S72.0,1\n"
    "P003,王五,男,,Z003,不存在的科室,2026-11-02 09:00,2026-11-05 10:00,骨折,S72.0,1\n"
    "P004,,男,,Z004,GK,2026-11-02 09:00,2026-11-01 10:00,骨折,S72.0,1\n"
).encode()


@pytest.fixture
def supervisor(org, make_user):
    client = Client()
    client.force_login(make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]]))
    return client


def upload(client, content=CSV, name="出院病人.csv", **extra):
    return client.post("/intake/imports/", {"file": SimpleUploadedFile(name, content), **extra})


def work():
    call_command(
        "db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0
    )


def test_upload_preview_dry_run_then_real_import_P4(supervisor):
    response = upload(supervisor)
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/intake/imports/{run.pk}/"
    page = supervisor.get(response["Location"]).content.decode()
    assert "病历号 → 病历号" in page and "住院号 → 住院号/门诊号" in page
    assert "出院时间：出院时间早于入院时间" in page and "姓名：不能为空" in page

    supervisor.post(f"/intake/imports/{run.pk}/start/", {"mode": "dry"})
    run.refresh_from_db()
    assert (run.status, run.dry_run) == ("queued", True)
    work()
    run.refresh_from_db()
    assert (run.status, run.created, run.failed, run.processed_rows, run.total_rows) == (
        "finished",
        2,
        2,
        4,
        4,
    )
    assert Patient.objects.count() == 0 and Visit.objects.count() == 0

    # The finished dry run offers the real import, as a new run of the same file.
    supervisor.post(f"/intake/imports/{run.pk}/start/", {"mode": "real"})
    real = ImportRun.objects.exclude(pk=run.pk).get()
    work()
    real.refresh_from_db()
    assert (real.status, real.dry_run, real.created, real.updated, real.unchanged, real.failed) == (
        "finished", False, 2, 0, 0, 2,
    )  # fmt: skip
    assert sorted(Visit.objects.values_list("visit_no", flat=True)) == ["Z001", "Z002"]
    assert AuditEvent.objects.filter(action="import", object_id=str(real.pk)).count() == 1

    summary = supervisor.get(f"/intake/imports/{real.pk}/").content.decode()
    assert "新增" in summary and "下载错误报告" in summary and "科室不存在" in summary
    report = supervisor.get(f"/intake/imports/{real.pk}/errors/")
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["行号", "列", "值", "原因"]
    assert rows[1:] == [
        ["4", "科室", "不存在的科室", "科室不存在（请先导入科室表，或检查名称/编码）"],
        ["5", "姓名", "", "不能为空"],
        ["5", "出院时间", "2026-11-01 10:00", "出院时间早于入院时间"],
    ]
    assert AuditEvent.objects.filter(action="export", object_id=str(real.pk)).count() == 1


def test_progress_partial_polls_while_running_and_refreshes_when_done(supervisor):
    upload(supervisor)
    run = ImportRun.objects.get()
    supervisor.post(f"/intake/imports/{run.pk}/start/", {"mode": "real"})
    queued = supervisor.get(f"/intake/imports/{run.pk}/progress/")
    assert 'hx-trigger="every 1s"' in queued.content.decode() and "HX-Refresh" not in queued
    work()
    done = supervisor.get(f"/intake/imports/{run.pk}/progress/")
    assert done["HX-Refresh"] == "true" and "100%" in done.content.decode()


def test_wrong_file_type_is_refused_in_chinese(supervisor):
    response = upload(supervisor, b"%PDF-1.4", name="名单.pdf")
    assert response.status_code == 200
    assert "不支持的文件类型“.pdf”" in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_a_file_without_required_columns_shows_the_reason_and_fails_cleanly(supervisor):
    upload(supervisor, "姓名,科室\n张三,XNK\n".encode(), name="x.csv")
    run = ImportRun.objects.get()
    assert (
        "缺少必需的列：病历号（patient_no）、住院号/门诊号（visit_no）"
        in supervisor.get(f"/intake/imports/{run.pk}/").content.decode()
    )
    supervisor.post(f"/intake/imports/{run.pk}/start/", {"mode": "real"})
    work()
    run.refresh_from_db()
    assert run.status == "failed" and "缺少必需的列" in run.message
    assert Patient.objects.count() == 0


def test_gb18030_upload(supervisor):
    upload(supervisor, CSV.decode().encode("gb18030"))
    run = ImportRun.objects.get()
    supervisor.post(f"/intake/imports/{run.pk}/start/", {"mode": "real"})
    work()
    assert sorted(Patient.objects.values_list("name", flat=True)) == ["张三", "李四"]


@pytest.mark.parametrize("persona", ["cardio_nurse", "auditor", "leader"])
def test_other_roles_cannot_see_or_upload(personas, persona):
    client = Client()
    client.force_login(personas[persona])
    assert client.get("/intake/imports/").status_code == 403
    assert upload(client).status_code == 403
    assert ImportRun.objects.count() == 0
