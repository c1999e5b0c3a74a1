"""C2 over the API: online channels (the hospital's WeChat account, website, 12345 hotline
hand-over) post cases; staff systems read them. Phones leave the server masked (P3)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from careloop.cases.choices import CaseKind, CaseSource, Severity
from careloop.cases.models import Case, CaseCategory
from careloop.cases.services import deadline_state
from careloop.lib.masking import normalize_phone
from careloop.org.models import Department
from careloop.patients.api.serializers import MaskedField
from careloop.patients.models import Patient


class CaseSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    category = serializers.SerializerMethodField()
    departments = serializers.SerializerMethodField()
    patient_no = serializers.CharField(source="patient.patient_no", default=None, read_only=True)
    contact_phone = MaskedField(help_text="脱敏显示，如 138****5678")
    deadline_state = serializers.SerializerMethodField(help_text="ok / near / overdue / done")

    class Meta:
        model = Case
        fields = [
            "id", "number", "kind", "kind_display", "source", "source_display", "category",
            "severity", "severity_display", "status", "status_display", "summary",
            "description", "contact_name", "contact_phone", "patient_no", "departments",
            "registered_at", "due_at", "deadline_state", "finding", "reply", "replied_at",
            "closed_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_category(self, case):
        return case.category.path if case.category_id else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_departments(self, case):
        return [d.code for d in case.departments.all()]

    def get_deadline_state(self, case) -> str:
        return deadline_state(case)


class CaseCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        CaseKind.choices, error_messages={"invalid_choice": "类型“{input}”无效"}
    )
    source = serializers.ChoiceField(
        CaseSource.choices,
        default=CaseSource.ONLINE,
        error_messages={"invalid_choice": "来源“{input}”无效"},
    )
    severity = serializers.ChoiceField(
        Severity.choices,
        default=Severity.GENERAL,
        error_messages={"invalid_choice": "严重程度“{input}”无效"},
    )
    category = serializers.CharField(required=False, allow_blank=True, help_text="分类代码")
    summary = serializers.CharField(max_length=120, error_messages={"blank": "请填写摘要"})
    description = serializers.CharField(error_messages={"blank": "请填写内容"})
    contact_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    patient_no = serializers.CharField(required=False, allow_blank=True, help_text="病历号")
    departments = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="涉及科室代码"
    )
    request_key = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="幂等键：重复提交只登记一次"
    )

    def validate_category(self, value):
        if not value:
            return None
        found = CaseCategory.objects.filter(code=value, is_active=True).first()
        if found is None:
            raise serializers.ValidationError(f"分类代码“{value}”不存在或已停用")
        return found

    def validate_contact_phone(self, value):
        digits = normalize_phone(value or "")
        if value and not (7 <= len(digits) <= 12):
            raise serializers.ValidationError(f"联系电话“{value}”格式不正确")
        return digits

    def validate_patient_no(self, value):
        if not value:
            return None
        # O3: only a patient the caller may see (an unknown and an invisible number read the
        # same, so the API does not tell which numbers exist elsewhere).
        user = self.context["request"].user
        found = Patient.objects.visible_to(user).filter(patient_no=value).first()
        if found is None:
            raise serializers.ValidationError(f"病历号“{value}”不存在")
        seen = set()
        while found.merged_into_id and found.pk not in seen:  # P5: the surviving record
            seen.add(found.pk)
            found = found.merged_into
        return found

    def validate_departments(self, codes):
        found = {d.code: d for d in Department.objects.filter(code__in=codes)}
        missing = [c for c in codes if c not in found]
        if missing:
            raise serializers.ValidationError(f"科室代码不存在：{'、'.join(missing)}")
        return [found[c] for c in dict.fromkeys(codes)]

    def validate(self, attrs):
        if not (attrs.get("contact_phone") or attrs.get("patient_no")):
            raise serializers.ValidationError({"contact_phone": "请填写联系电话或病历号，以便答复"})
        return attrs
