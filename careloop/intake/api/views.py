"""P4.3: HIS vendors push visits as JSON; the same validation (§9) and the same idempotent write
path as the file import, one request all-or-nothing (S4), errors in Chinese (S5), audited (S2)."""

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.intake.api.serializers import (
    MAX_ROWS,
    VisitBatch,
    VisitUpsertRejectedSerializer,
    VisitUpsertRequestSerializer,
    VisitUpsertResponseSerializer,
)

# apply_rows creates and changes patients as well as visits (the HIS client role holds all four).
UPSERT_PERMISSIONS = (
    "patients.add_patient",
    "patients.change_patient",
    "patients.add_visit",
    "patients.change_visit",
)

EXAMPLE_ROW = {
    "patient_id": "P0001",
    "name": "张三",
    "sex": "男",
    "birth_date": "1960-05-01",
    "phone": ["13800138000"],
    "visit_type": "住院",
    "visit_no": "Z2026000123",
    "department": "XNK",
    "admitted_at": "2026-03-01 08:30",
    "discharged_at": "2026-03-08T10:00:00+08:00",
    "diagnosis": [{"code": "I21.9", "text": "急性心肌梗死"}],
    "disposition": "1",
    "special": False,
}


class CanPushVisits(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.is_authenticated and request.user.has_perms(UPSERT_PERMISSIONS)


class VisitUpsertView(APIView):
    permission_classes = [CanPushVisits]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="intake_visits_upsert",
        summary="批量写入就诊（HIS 推送）",
        description=(
            f"每次 1–{MAX_ROWS} 行，字段同导入列（规格 §9）。同一就诊（就诊类型 + 住院号/门诊号）"
            "重复提交只会更新，内容未变则为 unchanged。任何一行有错误则整批不写入，返回 400 "
            "和每行每个字段的中文错误。认证：Authorization: Token <令牌>。"
        ),
        request=VisitUpsertRequestSerializer,
        responses={
            200: VisitUpsertResponseSerializer,
            400: OpenApiResponse(VisitUpsertRejectedSerializer, description="有错误，未写入"),
            403: OpenApiResponse(description="未登录、令牌无效或没有写入权限"),
            409: OpenApiResponse(description="与同时进行的写入冲突，未写入，可重试"),
        },
        examples=[OpenApiExample("一次住院", value={"rows": [EXAMPLE_ROW]}, request_only=True)],
        tags=["intake"],
    )
    def post(self, request):
        batch = VisitBatch(request.data)
        with transaction.atomic():
            if batch.write():
                record_event(
                    Action.IMPORT,
                    request=request,
                    object_type="patients.visit",
                    message=f"API 写入 {batch.summary()}",
                )
        if not batch.ok:
            record_event(
                Action.IMPORT,
                request=request,
                object_type="patients.visit",
                message=f"API 写入被拒绝：{batch.detail}",
            )
            return Response(batch.rejection(), status=400)
        return Response(batch.result())
