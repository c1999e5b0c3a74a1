"""The same §9 CSV through django-import-export, for the import benchmark's comparison.

Written as that library is meant to be used: a ``ModelResource`` for Visit with one field per
column and widgets for the Chinese values; ``before_import_row`` creates or updates the Patient
and its phones (so the foreign-key widget finds it), ``after_save_instance`` writes the
diagnoses and the death event. It produces the same rows as our importer (the benchmark checks
a decrypted, natural-key digest of both). Given its faster settings where they do not change
the result: ``skip_diff`` (no per-row deepcopy and diff), one transaction for the whole file, a
cached department lookup. Rows are saved one by one: ``use_bulk`` cannot be combined with a
``before_import_row`` that needs the previous rows' patients, nor with per-visit diagnoses.
"""

from __future__ import annotations

import datetime as dt

from import_export import fields, resources, widgets

from careloop.lib.masking import normalize_id_number, normalize_phone
from careloop.org.models import Department
from careloop.patients.choices import EventKind, PhoneOwner, Source
from careloop.patients.models import Diagnosis, Patient, PatientEvent, PatientPhone, Visit

SEX = {"男": "1", "女": "2", "未知": "0"}
VISIT_TYPE = {"住院": "inpatient", "门诊": "outpatient", "急诊": "emergency"}
DISPOSITION = {
    "医嘱离院": "1", "医嘱转院": "2", "医嘱转社区/乡镇卫生院": "3", "非医嘱离院": "4",
    "死亡": "5", "其他": "9",
}  # fmt: skip


class MapWidget(widgets.CharWidget):
    def __init__(self, mapping):
        super().__init__()
        self.mapping = mapping

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip()
        return self.mapping[value] if value else ""


class YesNoWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return (value or "").strip() == "是"


def _field(attribute, column, widget=None):
    return fields.Field(attribute=attribute, column_name=column, widget=widget)


TIME = "%Y-%m-%d %H:%M"


class VisitResource(resources.ModelResource):
    visit_type = _field("visit_type", "就诊类型", MapWidget(VISIT_TYPE))
    visit_no = _field("visit_no", "住院号/门诊号", widgets.CharWidget())
    patient = _field("patient", "病历号", widgets.ForeignKeyWidget(Patient, "patient_no"))
    department = _field("department", "科室", widgets.CachedForeignKeyWidget(Department, "name"))
    first_visit = _field("first_visit", "初诊", YesNoWidget())
    admitted_at = _field("admitted_at", "入院时间", widgets.DateTimeWidget(TIME))
    discharged_at = _field("discharged_at", "出院时间", widgets.DateTimeWidget(TIME))
    visit_at = _field("visit_at", "就诊时间", widgets.DateTimeWidget(TIME))
    disposition = _field("disposition", "离院方式", MapWidget(DISPOSITION))
    cleared_out = _field("cleared_out", "欠费清理", YesNoWidget())
    attending_doctor_name = _field("attending_doctor_name", "主管医生", widgets.CharWidget())
    responsible_nurse_name = _field("responsible_nurse_name", "责任护士", widgets.CharWidget())
    total_cost = _field("total_cost", "总费用", widgets.DecimalWidget())
    special = _field("special", "特殊病人", YesNoWidget())
    chronic = _field("chronic", "慢病", YesNoWidget())
    lost = _field("lost", "流失", YesNoWidget())

    class Meta:
        model = Visit
        import_id_fields = ("visit_type", "visit_no")
        fields = (
            "visit_type", "visit_no", "patient", "department", "first_visit", "admitted_at",
            "discharged_at", "visit_at", "disposition", "cleared_out", "attending_doctor_name",
            "responsible_nurse_name", "total_cost", "special", "chronic", "lost",
        )  # fmt: skip
        skip_diff = True
        use_transactions = True

    def before_import_row(self, row, **kwargs):
        """Create or update the visit's patient and its phones (one row at a time)."""
        birth = (row.get("出生日期") or "").strip()
        values = {
            "name": row["姓名"].strip(),
            "sex": SEX.get((row.get("性别") or "").strip(), "0"),
            "birth_date": dt.date.fromisoformat(birth) if birth else None,
            "id_number": normalize_id_number(row.get("身份证号")),
            "address": (row.get("家庭住址") or "").strip(),
            "open_dispute": (row.get("医疗纠纷") or "").strip() == "是",
            "do_not_contact": (row.get("拒访") or "").strip() == "是",
        }
        patient, created = Patient.objects.get_or_create(
            patient_no=row["病历号"].strip(), defaults=values
        )
        if not created:
            changed = [f for f, v in values.items() if getattr(patient, f) != v]
            if changed:
                for f in changed:
                    setattr(patient, f, values[f])
                patient.save()
        wanted = []
        for piece in (row.get("联系电话") or "").replace("；", ";").split(";"):
            number = normalize_phone(piece)
            if number and number not in wanted:
                wanted.append(number)
        current = [] if created else [p.number for p in patient.phones.order_by("position")]
        if wanted != current:
            if current:
                patient.phones.all().delete()
            for i, number in enumerate(wanted):
                PatientPhone.objects.create(
                    patient=patient, number=number, owner=PhoneOwner.SELF,
                    is_preferred=(i == 0), position=i,
                )  # fmt: skip

    def before_save_instance(self, instance, row, **kwargs):
        instance.source = instance.source if instance.pk else Source.IMPORT
        instance._bench_new = instance.pk is None

    def after_save_instance(self, instance, row, **kwargs):
        texts = [t.strip() for t in (row.get("出院诊断") or "").split(";") if t.strip()]
        codes = [c.strip().upper() for c in (row.get("诊断编码") or "").split(";") if c.strip()]
        if not instance._bench_new:
            instance.diagnoses.all().delete()
        for i in range(max(len(texts), len(codes))):
            Diagnosis.objects.create(
                visit=instance, position=i, code=codes[i] if i < len(codes) else "",
                text=texts[i][:200] if i < len(texts) else "", is_principal=(i == 0),
            )  # fmt: skip
        if instance._bench_new and instance.disposition == "5":
            patient = instance.patient
            if not patient.is_deceased:
                patient.is_deceased = True
                patient.deceased_at = instance.discharged_at or instance.visit_at
                patient.save(update_fields=["is_deceased", "deceased_at"])
                PatientEvent.objects.create(
                    patient=patient, visit=instance, kind=EventKind.DEATH,
                    occurred_at=patient.deceased_at, detail={"disposition": "5"},
                    source=instance.source,
                )  # fmt: skip
