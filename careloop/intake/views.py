"""P4.1 upload page: upload → column preview → dry run → real run with a progress bar →
summary and a downloadable error report (row, column, value, reason)."""

from __future__ import annotations

import uuid
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.core.exports import csv_response, xlsx_response
from careloop.core.permissions import require_perm
from careloop.intake.choices import RunStatus
from careloop.intake.forms import ImportUploadForm
from careloop.intake.importer import parsed_table
from careloop.intake.models import ImportRun
from careloop.intake.rows import COLUMNS, LABELS
from careloop.lib.tabular import TabularError

PREVIEW_ROWS = 10


@login_required
def importrun_list(request):
    require_perm(request, "intake.view_importrun")
    form = ImportUploadForm()
    if request.method == "POST":
        require_perm(request, "intake.add_importrun")
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            run = _store_upload(request, form)
            return redirect("intake:importrun_detail", pk=run.pk)
    page = Paginator(ImportRun.objects.select_related("created_by"), 20).get_page(
        request.GET.get("page")
    )
    return render(
        request, "intake/importrun_list.html", {"form": form, "page_obj": page, "query": ""}
    )


def _store_upload(request, form) -> ImportRun:
    upload = form.cleaned_data["file"]
    directory = Path(settings.MEDIA_ROOT) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
    with open(path, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return ImportRun.objects.create(
        file_name=Path(upload.name).name[:255],
        stored_path=str(path),
        strict=form.cleaned_data["strict"],
        created_by=request.user,
    )


def _preview(run: ImportRun) -> dict:
    """The header mapping and the first rows as the import would parse them."""
    try:
        hm, rows = parsed_table(run.stored_path)
    except TabularError as exc:
        return {"error": str(exc)}
    sample = []
    for number, raw, _row, problems in islice(rows, PREVIEW_ROWS):
        sample.append({"number": number, "cells": [raw.get(c.name, "") for c in COLUMNS if c.name in hm.index],
                       "problems": [f"{LABELS[p.column]}：{p.reason}" for p in problems]})  # fmt: skip
    return {
        "mapped": [(hm.header_of(c.name), c.label) for c in COLUMNS if c.name in hm.index],
        "unknown": hm.unknown,
        "headers": [c.label for c in COLUMNS if c.name in hm.index],
        "sample": sample,
    }


@login_required
def importrun_detail(request, pk):
    require_perm(request, "intake.view_importrun")
    run = get_object_or_404(ImportRun, pk=pk)
    context = {"run": run, "errors": run.errors[:100]}
    if run.status == RunStatus.UPLOADED:
        context["preview"] = _preview(run)
    return render(request, "intake/importrun_detail.html", context)


@login_required
def importrun_progress(request, pk):
    require_perm(request, "intake.view_importrun")
    run = get_object_or_404(ImportRun, pk=pk)
    response = render(request, "intake/partials/progress.html", {"run": run})
    if run.status in (RunStatus.FINISHED, RunStatus.FAILED):
        response["HX-Refresh"] = "true"  # show the summary page once it is done
    return response


@login_required
@require_POST
def importrun_start(request, pk):
    """Start a dry run or the real import in the background; a finished dry run is re-run for real
    as a new run of the same file."""
    require_perm(request, "intake.add_importrun")
    from careloop.intake.tasks import run_import_task

    run = get_object_or_404(ImportRun, pk=pk)
    dry = request.POST.get("mode") == "dry"
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        messages.info(request, _("该导入已在进行中。"))
        return redirect("intake:importrun_detail", pk=run.pk)
    if run.status != RunStatus.UPLOADED:
        run = ImportRun.objects.create(
            file_name=run.file_name,
            stored_path=run.stored_path,
            strict=run.strict,
            created_by=request.user,
        )
    run.dry_run, run.status = dry, RunStatus.QUEUED
    run.save(update_fields=["dry_run", "status"])
    transaction.on_commit(lambda: run_import_task.enqueue(run.pk))
    return redirect("intake:importrun_detail", pk=run.pk)


@login_required
def importrun_errors(request, pk):
    require_perm(request, "intake.view_importrun")
    run = get_object_or_404(ImportRun, pk=pk)
    headers = ["行号", "列", "值", "原因"]
    name = f"import-errors-{run.pk}"
    record_event(
        Action.EXPORT, request=request, obj=run, message=f"下载导入错误报告（{len(run.errors)} 条）"
    )
    if request.GET.get("format") == "xlsx":
        return xlsx_response(name, "错误报告", headers, run.errors)
    return csv_response(name, headers, run.errors)
