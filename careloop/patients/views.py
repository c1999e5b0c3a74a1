"""Archive screens (P1–P3): search, the patient page with visits and timeline, and the audited
reveal of masked data. Everything goes through ``visible_to`` (O3); every view is audited (S2)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Max, Prefetch, Q
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.core.fields import blind_lookup
from careloop.core.permissions import require_perm
from careloop.lib.masking import (
    mask_address,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)
from careloop.org.models import Department
from careloop.patients import timeline
from careloop.patients.models import Patient, PatientPhone, Visit


def search(queryset, q: str):
    """Name (contains), patient no or visit no (exact), phone or id number (exact, blind index)."""
    q = q.strip()
    if not q:
        return queryset
    condition = Q(name__icontains=q) | Q(patient_no=q) | Q(visits__visit_no=q)
    digits = normalize_phone(q)
    if 7 <= len(digits) <= 12 and digits == "".join(ch for ch in digits if ch.isdigit()):
        phone_match = PatientPhone.objects.filter(
            **blind_lookup(PatientPhone, "number_bidx", q)
        ).values("patient_id")
        condition |= Q(pk__in=phone_match)
    if len(normalize_id_number(q)) in (15, 18):
        condition |= Q(**blind_lookup(Patient, "id_number_bidx", q))
    return queryset.filter(pk__in=Patient.objects.filter(condition).values("pk"))


@login_required
def patient_list(request):
    require_perm(request, "patients.view_patient")
    q = request.GET.get("q", "")
    qs = search(Patient.objects.visible_to(request.user), q)
    department = request.GET.get("department")
    if department and department.isdigit():
        qs = qs.filter(pk__in=Visit.objects.filter(department_id=department).values("patient_id"))
    qs = (
        qs.annotate(last_seen=Max("visits__discharged_at"))
        .prefetch_related("phones")
        .order_by("-updated_at", "-pk")
    )
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_obj": page,
        "q": q,
        "query": query.urlencode(),
        "departments": Department.objects.filter(visits__isnull=False).distinct().order_by("code"),
        "department": department,
        "mask_phone": mask_phone,
    }
    template = (
        "patients/partials/patient_table.html" if request.htmx else "patients/patient_list.html"
    )
    return render(request, template, context)


def _visible_patient(request, pk):
    return get_object_or_404(
        Patient.objects.visible_to(request.user).prefetch_related("phones", "events"), pk=pk
    )


@login_required
def patient_detail(request, pk):
    require_perm(request, "patients.view_patient")
    patient = _visible_patient(request, pk)
    visits = list(
        Visit.objects.visible_to(request.user)
        .filter(patient=patient)
        .select_related("department", "attending_doctor", "responsible_nurse")
        .prefetch_related(Prefetch("diagnoses"))
    )
    record_event(Action.VIEW, request=request, obj=patient)
    context = {
        "patient": patient,
        "visits": visits,
        "timeline": timeline.timeline(patient, request.user, visits),
        "phones": [(p, mask_phone(p.number)) for p in patient.phones.all()],
        "id_masked": mask_id_number(patient.id_number),
        "address_masked": mask_address(patient.address),
        "can_reveal": request.user.has_perm("patients.reveal_patient"),
    }
    return render(request, "patients/patient_detail.html", context)


@login_required
@require_POST
def patient_reveal(request, pk):
    """P3: show the unmasked phones, id number and address, once, and write it to the audit log."""
    require_perm(request, "patients.view_patient")
    if not request.user.has_perm("patients.reveal_patient"):
        record_event(Action.ACCESS_DENIED, request=request, object_type="patients.patient", object_id=str(pk),
                     message="无权查看未脱敏信息")  # fmt: skip
        raise PermissionDenied
    patient = _visible_patient(request, pk)
    record_event(Action.REVEAL, request=request, obj=patient, message="电话、身份证号、住址")
    return render(
        request,
        "patients/partials/revealed.html",
        {"patient": patient, "phones": patient.phones.all()},
    )
