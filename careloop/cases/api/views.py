"""C2 API: list/read cases (scoped, O3) and register one (online channels). Registering goes
through the same service as the intake form (register_case), with its idempotency key."""

from __future__ import annotations

import hashlib

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.cases.api.serializers import CaseCreateSerializer, CaseSerializer
from careloop.cases.choices import CaseKind, CaseStatus
from careloop.cases.models import Case
from careloop.cases.services import CaseError, register_case
from careloop.patients.api.views import Pagination


class CaseApiFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    kind = django_filters.ChoiceFilter(choices=CaseKind.choices)
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Case
        fields = ["status", "kind", "updated_since"]


class CaseViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CaseSerializer
    filterset_class = CaseApiFilter
    pagination_class = Pagination
    queryset = Case.objects.none()

    def get_queryset(self):
        return (
            Case.objects.visible_to(self.request.user)
            .select_related("category", "patient")
            .prefetch_related("departments")
            .order_by("-registered_at", "-pk")
        )

    @extend_schema(
        summary="登记投诉/意见/建议/表扬（网络渠道）",
        description="字段见请求体；重复提交同一 request_key 只登记一次并返回第一次的结果（200）。"
        "错误返回 400 和每个字段的中文说明，未写入任何数据。认证：Authorization: Token <令牌>。",
        request=CaseCreateSerializer,
        responses={
            201: CaseSerializer,
            200: OpenApiResponse(CaseSerializer, description="重复提交，返回已登记的案件"),
            400: OpenApiResponse(description="有错误，未写入"),
        },
        tags=["cases"],
    )
    def create(self, request, *args, **kwargs):
        data = CaseCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = values.get("request_key") or None
        if key:
            # The caller's key, per caller, hashed to fit the column whatever its length.
            digest = hashlib.sha256(f"{request.user.pk}:{key}".encode()).hexdigest()
            key = f"api:{digest[:60]}"
            found = Case.objects.filter(request_key=key).first()
            if found is not None:
                return Response(CaseSerializer(found).data, status=status.HTTP_200_OK)
        try:
            case = register_case(
                by=request.user,
                kind=values["kind"],
                source=values["source"],
                severity=values["severity"],
                category=values.get("category"),
                summary=values["summary"],
                description=values["description"],
                contact_name=values.get("contact_name", ""),
                contact_phone=values.get("contact_phone", ""),
                patient=values.get("patient_no"),
                departments=values.get("departments", []),
                request_key=key,
            )
        except CaseError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        record_event(Action.CREATE, request=request, obj=case, message="API 登记")
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)
