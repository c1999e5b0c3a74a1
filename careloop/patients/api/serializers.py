"""Read-only representations of patients and visits (P1, P2).

P3: phones, id number and address leave the server masked only — the API has no reveal; that is
an audited action of the archive page.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from careloop.patients.models import Diagnosis, Patient, PatientPhone, Visit


@extend_schema_field(OpenApiTypes.STR)
class MaskedField(serializers.Field):
    """P3: an encrypted model field of the same name, through the field's own mask."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        kwargs["source"] = "*"
        super().__init__(**kwargs)

    def to_representation(self, instance):
        return instance._meta.get_field(self.field_name).masked(instance)


class PhoneSerializer(serializers.ModelSerializer):
    number = MaskedField(help_text="脱敏显示，如 138****5678")
    owner_display = serializers.CharField(source="get_owner_display", read_only=True)

    class Meta:
        model = PatientPhone
        fields = ["number", "owner", "owner_display", "is_preferred"]


class PatientSerializer(serializers.ModelSerializer):
    sex_display = serializers.CharField(source="get_sex_display", read_only=True)
    age = serializers.SerializerMethodField()
    phones = PhoneSerializer(many=True, read_only=True)
    id_number = MaskedField(help_text="脱敏显示，如 4201**********1234")
    address = MaskedField(help_text="脱敏显示")

    class Meta:
        model = Patient
        fields = [
            "id",
            "patient_no",
            "name",
            "sex",
            "sex_display",
            "birth_date",
            "birth_date_estimated",
            "age",
            "phones",
            "id_number",
            "address",
            "is_deceased",
            "deceased_at",
            "do_not_contact",
            "open_dispute",
            "privacy_sensitive",
            "created_at",
            "updated_at",
        ]

    def get_age(self, patient) -> int | None:
        return patient.age()  # P1: derived from the birth date, never stored


class DiagnosisSerializer(serializers.ModelSerializer):
    class Meta:
        model = Diagnosis
        fields = ["code", "text", "is_principal"]


class PatientRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "patient_no", "name"]


class VisitSerializer(serializers.ModelSerializer):
    patient = PatientRefSerializer(read_only=True)
    visit_type_display = serializers.CharField(source="get_visit_type_display", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    length_of_stay_days = serializers.IntegerField(read_only=True, allow_null=True)
    disposition_display = serializers.CharField(source="get_disposition_display", read_only=True)
    diagnoses = DiagnosisSerializer(many=True, read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "patient",
            "visit_type",
            "visit_type_display",
            "visit_no",
            "department",
            "department_name",
            "attending_doctor_name",
            "responsible_nurse_name",
            "admitted_at",
            "discharged_at",
            "visit_at",
            "length_of_stay_days",
            "disposition",
            "disposition_display",
            "cleared_out",
            "total_cost",
            "first_visit",
            "lost",
            "special",
            "chronic",
            "diagnoses",
            "guidance_medication",
            "guidance_diet",
            "guidance_rehab",
            "revisit_date",
            "status",
            "source",
            "created_at",
            "updated_at",
        ]


class PatientVisitSerializer(VisitSerializer):
    class Meta(VisitSerializer.Meta):
        fields = [f for f in VisitSerializer.Meta.fields if f != "patient"]


class PatientDetailSerializer(PatientSerializer):
    """The patient with the visits the reader may see (O3: other departments' visits stay out)."""

    visits = PatientVisitSerializer(many=True, read_only=True, source="visible_visits")

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "visits"]
