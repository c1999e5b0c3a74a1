"""C2–C4: cases from intake to closing, their history and attachments, and the C3 re-follow-up
after closing (loop closure)."""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from careloop.accounts.roles import Role
from careloop.cases.choices import (
    CaseEventKind,
    CaseKind,
    CaseStatus,
    DeadlineSubject,
    Finding,
    RefollowOutcome,
    RefollowStatus,
    Severity,
)
from careloop.cases.models import (
    Case,
    CaseAttachment,
    CaseEvent,
    CaseRefollow,
)
from careloop.cases.services.common import (
    CaseError,
    _clock_stopped,
    _department_heads,
    _fmt,
    _stamp,
    _tell,
    people,
    start_case_clock,
    start_clock,
)

# --- Cases (C2, C3, C4) -----------------------------------------------------------------------

CASE_EDITABLE = (
    "kind", "source", "category", "severity", "contact_name", "contact_phone", "staff_names",
    "summary", "description", "handler", "finding", "investigation", "responsible_department",
    "responsible_person", "measure", "reply",
)  # fmt: skip


def case_url(case) -> str:
    return f"/cases/{case.pk}/"


def _event(case, kind, by, *, note="", from_status="", to_status="", changes=None, at=None):
    return CaseEvent.objects.create(
        case=case, kind=kind, by=by, at=at or timezone.now(), note=note,
        from_status=from_status, to_status=to_status, changes=changes or {},
    )  # fmt: skip


def register_case(
    *,
    by,
    kind: str,
    source: str,
    summary: str,
    description: str,
    severity: str = Severity.GENERAL,
    category=None,
    patient=None,
    visit=None,
    task=None,
    contact_name: str = "",
    contact_phone: str = "",
    departments=(),
    staff=(),
    staff_names: str = "",
    request_key: str | None = None,
    at=None,
) -> Case:
    """C2: register a case (登记); its reply clock (C3) starts now. A double submit with the same
    ``request_key`` returns the first case."""
    summary, description = (summary or "").strip(), (description or "").strip()
    problems = []
    if not summary:
        problems.append("请填写摘要")
    if not description:
        problems.append("请填写内容")
    if kind not in CaseKind.values:
        problems.append("请选择类型")
    if problems:
        raise CaseError("；".join(problems))
    if request_key:
        found = Case.objects.filter(request_key=request_key).first()
        if found is not None:
            return found
    if visit is not None and patient is None:
        patient = visit.patient
    departments = list(departments)
    if not departments and visit is not None:
        departments = [visit.department]
    at = at or timezone.now()
    try:
        with transaction.atomic():
            case = Case(
                kind=kind, source=source, summary=summary, description=description,
                severity=severity or Severity.GENERAL, category=category, patient=patient,
                visit=visit, task=task, contact_name=(contact_name or "").strip(),
                contact_phone=(contact_phone or "").strip(), staff_names=staff_names.strip(),
                registered_by=by, registered_at=at, request_key=request_key or None,
                updated_at=at,
            )  # fmt: skip
            start_case_clock(case, at)
            case.save()
            case.number = f"{timezone.localtime(at):%Y%m%d}{case.pk:05d}"
            case.save(update_fields=["number"])
            case.departments.set(departments)
            case.staff.set(list(staff))
            _event(case, CaseEventKind.CREATED, by, to_status=case.status, at=at)
            _announce(case)
    except IntegrityError:
        if request_key:
            return Case.objects.get(request_key=request_key)
        raise
    return case


def _announce(case: Case) -> None:
    """Who hears of a new case: the service supervisors coordinate every case (seed 001 一/三);
    important and major complaints go to medical affairs at once (seed 001 四); the heads of
    the departments involved hear of everything about their department, praise included."""
    label = case.get_kind_display()
    title = f"新{label}：{case.summary}"
    body = f"{case.number} · {case.get_severity_display()} · 期限 {_fmt(case.due_at)}"
    url = case_url(case)
    users = people(Role.SUPERVISOR)
    if case.kind == CaseKind.COMPLAINT and case.severity in (Severity.IMPORTANT, Severity.MAJOR):
        users += people(Role.MEDICAL_AFFAIRS)
    for department in case.departments.all():
        users += _department_heads(department.pk)
    users = [u for u in users if u.pk != getattr(case.registered_by, "pk", None)]
    _tell(users, title=title, body=body, url=url, key=f"case:{case.pk}:new",
          sms=case.severity == Severity.MAJOR)  # fmt: skip


def _diff(case: Case, values: dict) -> dict:
    changes = {}
    for field, new in values.items():
        old = getattr(case, field)
        if hasattr(old, "pk") or hasattr(new, "pk"):
            old_v, new_v = (str(old) if old else ""), (str(new) if new else "")
        else:
            old_v, new_v = old, new
        if old_v != new_v:
            if field == "contact_phone":
                changes[field] = ["***", "***"]
            else:
                changes[field] = [old_v, new_v]
    return changes


def update_case(case: Case, *, by, departments=None, staff=None, note: str = "", **values) -> Case:
    """C2: edit a case's facts; every change is kept in its history. A change of kind or
    severity re-computes the reply deadline from the registration time."""
    unknown = set(values) - set(CASE_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status == CaseStatus.CLOSED:
            raise CaseError("案件已关闭，不能修改")
        changes = _diff(case, values)
        for field, value in values.items():
            setattr(case, field, value.strip() if isinstance(value, str) else value)
        if not (case.summary and case.description):
            raise CaseError("摘要和内容不能为空")
        if ("kind" in changes or "severity" in changes) and not _clock_stopped(case):
            kept = (case.due_at, case.reminded_at, case.escalation_level)
            start_case_clock(case, case.registered_at)
            # Review fix (issue 6 tests): an unchanged deadline keeps its reminder and escalation
            # level; resetting them made the next sweep escalate the same deadline again and
            # write a second "逾期升级" history row (test_case_services, severity edit).
            if case.due_at == kept[0]:
                case.reminded_at, case.escalation_level = kept[1], kept[2]
        if departments is not None:
            before = sorted(str(d) for d in case.departments.all())
            after = sorted(str(d) for d in departments)
            if before != after:
                changes["departments"] = [before, after]
                case.departments.set(departments)
        if staff is not None:
            before = sorted(str(u) for u in case.staff.all())
            after = sorted(str(u) for u in staff)
            if before != after:
                changes["staff"] = [before, after]
                case.staff.set(staff)
        case.updated_at = timezone.now()
        case.save()
        if changes or note:
            kind = CaseEventKind.ASSIGNED if set(changes) == {"handler"} else CaseEventKind.UPDATED
            _event(case, kind, by, note=note, changes=changes)
            if "handler" in changes and case.handler_id and case.handler_id != by.pk:
                _tell([case.handler], title=f"请处理：{case.summary}", url=case_url(case),
                      key=f"case:{case.pk}:handler:{case.handler_id}:{_stamp(case.updated_at)}")  # fmt: skip
    return case


def closing_problems(case: Case) -> list[str]:
    """C2/seed 003 8: a case is closed only with a finding and a reply to the patient; a
    complaint found true (in whole or part) also needs who is responsible and the measure."""
    problems = []
    if not case.finding:
        problems.append("请填写核实结论（属实/部分属实/不属实）")
    if case.kind != CaseKind.PRAISE and not case.reply.strip():
        problems.append("请填写答复患者的内容")
    if case.kind == CaseKind.COMPLAINT and case.finding in (Finding.TRUE, Finding.PARTLY):
        if not (case.responsible_department_id or case.responsible_person.strip()):
            problems.append("投诉属实：请填写责任科室或责任人")
        if not case.measure.strip():
            problems.append("投诉属实：请填写处理措施")
    return problems


def _requirements(case: Case, target: str) -> list[str]:
    if target == CaseStatus.HANDLING and not case.finding:
        return ["进入处理前请填写核实结论"]
    if target == CaseStatus.REPLIED:
        problems = [p for p in closing_problems(case) if "答复" not in p]
        if not case.reply.strip():
            problems.insert(0, "请填写答复患者的内容")
        return problems
    if target == CaseStatus.CLOSED:
        return closing_problems(case)
    return []


STATUS_ORDER = {status: i for i, status in enumerate(CaseStatus.values)}


def advance_case(case: Case, to: str, *, by, note: str = "", at=None, **values) -> Case:
    """C2: move a case forward (登记 → 受理 → 调查核实 → 处理 → 答复患者 → 关闭), saving the
    fields given with it. Steps may be skipped forward (a minor complaint answered on the spot,
    seed 001 四) but each target's requirements hold; a case never moves backwards here."""
    if to not in STATUS_ORDER:
        raise CaseError("未知的状态")
    at = at or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status == CaseStatus.CLOSED:
            raise CaseError("案件已关闭")
        if STATUS_ORDER[to] <= STATUS_ORDER[case.status]:
            raise CaseError(
                f"案件已是“{case.get_status_display()}”，不能改为“{CaseStatus(to).label}”"
            )
        if to == CaseStatus.CLOSED and not by.has_perm("cases.close_case"):
            raise CaseError("只有客服主管或医务科可以关闭案件")
        changes = _diff(case, values)
        for field, value in values.items():
            if field not in CASE_EDITABLE:
                raise ValueError(field)
            setattr(case, field, value.strip() if isinstance(value, str) else value)
        problems = _requirements(case, to)
        if problems:
            raise CaseError("；".join(problems))
        before = case.status
        case.status = to
        if case.handler_id is None and to != CaseStatus.CLOSED:
            case.handler = by
        replied = STATUS_ORDER[to] >= STATUS_ORDER[CaseStatus.REPLIED]
        if replied and case.replied_at is None and case.reply.strip():
            case.replied_at, case.replied_by = at, by
        if to == CaseStatus.CLOSED:
            case.closed_at, case.closed_by = at, by
            # C4: verified praise is ready for staff points.
            case.points_ready = case.kind == CaseKind.PRAISE and case.finding in (
                Finding.TRUE,
                Finding.PARTLY,
            )
        case.updated_at = at
        case.save()
        _event(case, CaseEventKind.STATUS, by, from_status=before, to_status=to, note=note,
               changes=changes, at=at)  # fmt: skip
        if to == CaseStatus.CLOSED:
            schedule_refollow(case, by=by, at=at)
    return case


def add_note(case: Case, *, by, note: str) -> CaseEvent:
    note = (note or "").strip()
    if not note:
        raise CaseError("备注不能为空")
    return _event(case, CaseEventKind.NOTE, by, note=note)


# Attachments: stored on disk under MEDIA_ROOT, type checked by extension and first bytes.
ATTACHMENT_TYPES = {
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    ".mp3": ("audio/mpeg", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    ".wav": ("audio/wav", (b"RIFF",)),
    ".txt": ("text/plain", ()),
}  # fmt: skip


def max_attachment_bytes() -> int:
    return settings.CARELOOP_ATTACHMENT_MAX_MB * 1024 * 1024


def add_attachment(case: Case, upload, *, by) -> CaseAttachment:
    """C2: attach a file (a letter's scan, a photo, a recording). Size and type are limited;
    the type is checked against the file's first bytes, not only its name."""
    import os

    name = os.path.basename(upload.name or "")[:200]
    ext = os.path.splitext(name)[1].lower()
    if ext not in ATTACHMENT_TYPES:
        allowed = "、".join(sorted(e.lstrip(".") for e in ATTACHMENT_TYPES))
        raise CaseError(f"文件“{name}”的类型不允许上传；允许：{allowed}")
    if upload.size > max_attachment_bytes():
        raise CaseError(
            f"文件“{name}”大小 {upload.size / 1048576:.1f} MB，超过上限 {settings.CARELOOP_ATTACHMENT_MAX_MB} MB"
        )
    if upload.size == 0:
        raise CaseError(f"文件“{name}”是空文件")
    content_type, magics = ATTACHMENT_TYPES[ext]
    upload.seek(0)
    head = upload.read(16)
    if magics and not any(head.startswith(m) for m in magics):
        raise CaseError(f"文件“{name}”的内容与扩展名 {ext} 不符")
    if ext == ".txt":
        try:
            upload.seek(0)
            upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise CaseError(f"文件“{name}”不是 UTF-8 文本") from None
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        att = CaseAttachment(
            case=case, original_name=name, extension=ext, content_type=content_type,
            size=upload.size, sha256=digest.hexdigest(), uploaded_by=by,
        )  # fmt: skip
        att.file.save(name, upload, save=False)
        att.save()
        _event(case, CaseEventKind.ATTACHMENT, by, note=name)
    return att


# --- C3 loop closure --------------------------------------------------------------------------


def schedule_refollow(case: Case, *, by, at=None) -> CaseRefollow | None:
    """C3: after closing, someone asks the patient whether the answer satisfied them. Praise is
    not re-followed, nor a case with nobody to call."""
    if case.kind == CaseKind.PRAISE:
        return None
    if not (case.patient_id or case.contact_phone):
        return None
    at = at or timezone.now()
    # The person who took the case calls back — unless it came in through a system account
    # (an online channel's integration), then whoever handled it, or whoever closed it.
    candidates = [case.registered_by, case.handler, by]
    assignee = next(
        (u for u in candidates if u is not None and u.has_perm("cases.change_caserefollow")), None
    )
    refollow = CaseRefollow(case=case, assignee=assignee, created_at=at)
    start_clock(refollow, DeadlineSubject.REFOLLOW, at, case.kind, case.severity)
    try:
        with transaction.atomic():
            refollow.save()
    except IntegrityError:
        return CaseRefollow.objects.get(case=case, status=RefollowStatus.DUE)
    _event(case, CaseEventKind.REFOLLOW, by, note=f"已安排结案回访，期限 {_fmt(refollow.due_at)}")
    if refollow.assignee_id:
        _tell([refollow.assignee], title=f"结案回访：{case.summary}",
              body=f"{case.number} 已关闭，请在 {_fmt(refollow.due_at)} 前回访患者是否满意",
              url=case_url(case), key=f"refollow:{refollow.pk}:new")  # fmt: skip
    return refollow


def record_refollow(refollow: CaseRefollow, *, by, outcome: str, note: str = "", at=None):
    """C3: the patient's answer. Not satisfied reopens the case for handling (back to 处理)
    with a new reply deadline and tells the handler and the supervisors."""
    if outcome not in RefollowOutcome.values:
        raise CaseError("请选择患者是否满意")
    at = at or timezone.now()
    with transaction.atomic():
        refollow = CaseRefollow.objects.select_for_update().get(pk=refollow.pk)
        if refollow.status != RefollowStatus.DUE:
            raise CaseError("该结案回访已完成")
        refollow.status, refollow.outcome = RefollowStatus.DONE, outcome
        refollow.note, refollow.done_by, refollow.done_at = (note or "").strip(), by, at
        refollow.save()
        case = Case.objects.select_for_update().get(pk=refollow.case_id)
        label = RefollowOutcome(outcome).label
        _event(
            case,
            CaseEventKind.REFOLLOW,
            by,
            note=f"结案回访：{label}。{refollow.note}".strip(),
            at=at,
        )
        if outcome == RefollowOutcome.UNSATISFIED:
            before = case.status
            case.status = CaseStatus.HANDLING
            case.closed_at = case.closed_by = None
            case.replied_at = case.replied_by = None
            case.points_ready = False
            start_case_clock(case, at)
            case.updated_at = at
            case.save()
            _event(case, CaseEventKind.REOPENED, by, from_status=before,
                   to_status=case.status, note="患者对答复不满意，重新处理", at=at)  # fmt: skip
            users = people(Role.SUPERVISOR) + ([case.handler] if case.handler_id else [])
            _tell(users, title=f"患者不满意，案件重新处理：{case.summary}", url=case_url(case),
                  key=f"refollow:{refollow.pk}:unsatisfied")  # fmt: skip
    return refollow


def loop_closure(refollows=None) -> dict:
    """C3: loop-closure rate = satisfied / re-followed (those reached: satisfied or not), as a
    percentage with one decimal; None when nobody was reached. The reports issue passes its
    own (period, department) filtered queryset."""
    qs = refollows if refollows is not None else CaseRefollow.objects.all()
    done = qs.filter(status=RefollowStatus.DONE)
    satisfied = done.filter(outcome=RefollowOutcome.SATISFIED).count()
    reached = done.filter(
        outcome__in=[RefollowOutcome.SATISFIED, RefollowOutcome.UNSATISFIED]
    ).count()
    rate = None
    if reached:
        rate = (Decimal(satisfied) * 100 / Decimal(reached)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    return {"satisfied": satisfied, "refollowed": reached, "rate": rate}
