"""P4.3 read side: patients and visits, filtered and paginated, always through ``visible_to``
(O3) — a record outside the reader's departments is a 404, not a 403, so its existence does not
leak. Opening one patient or visit is a view of a patient record and is audited (S2)."""

from django.db.models import Prefetch
from rest_framework import pagination, viewsets
from rest_framework.response import Response

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.patients.api.serializers import (
    PatientDetailSerializer,
    PatientSerializer,
    VisitSerializer,
)
from careloop.patients.filtersets import PatientFilterSet, VisitFilterSet
from careloop.patients.models import Patient, Visit


class Pagination(pagination.PageNumberPagination):
    """A pulling HIS may ask for bigger pages than the default 50, within reason."""

    page_size_query_param = "page_size"
    max_page_size = 500


class PatientViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PatientSerializer
    filterset_class = PatientFilterSet
    pagination_class = Pagination
    queryset = Patient.objects.none()

    def get_queryset(self):
        user = self.request.user
        queryset = Patient.objects.visible_to(user).prefetch_related("phones")
        if self.action == "retrieve":
            visits = Visit.objects.visible_to(user).select_related("department")
            queryset = queryset.prefetch_related(
                Prefetch("visits", visits.prefetch_related("diagnoses"), to_attr="visible_visits")
            )
        return queryset

    def get_serializer_class(self):
        return PatientDetailSerializer if self.action == "retrieve" else PatientSerializer

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        record_event(Action.VIEW, request=request, obj=patient, message="API")
        return Response(self.get_serializer(patient).data)


class VisitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = VisitSerializer
    filterset_class = VisitFilterSet
    pagination_class = Pagination
    queryset = Visit.objects.none()

    def get_queryset(self):
        return (
            Visit.objects.visible_to(self.request.user)
            .select_related("patient", "department")
            .prefetch_related("diagnoses")
        )

    def retrieve(self, request, *args, **kwargs):
        visit = self.get_object()
        record_event(Action.VIEW, request=request, obj=visit.patient, message=f"API：{visit}")
        return Response(self.get_serializer(visit).data)
