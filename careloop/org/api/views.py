from rest_framework import viewsets

from careloop.org.api.serializers import DepartmentSerializer, RosterEntrySerializer
from careloop.org.filtersets import DepartmentFilterSet, RosterEntryFilterSet
from careloop.org.models import Department, RosterEntry


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilterSet
    queryset = Department.objects.none()

    def get_queryset(self):
        return Department.objects.visible_to(self.request.user).select_related("campus")


class RosterEntryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RosterEntrySerializer
    filterset_class = RosterEntryFilterSet
    queryset = RosterEntry.objects.none()

    def get_queryset(self):
        return RosterEntry.objects.visible_to(self.request.user).select_related(
            "shift", "staff", "department", "team"
        )
