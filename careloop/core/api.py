"""API plumbing shared by every app: model permissions from roles, and errors in Chinese."""

from __future__ import annotations

from django.http import Http404
from rest_framework import exceptions, permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Reading needs the view permission too (DRF's default lets any user read)."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


MESSAGES = {
    exceptions.NotAuthenticated: "未登录或令牌无效",
    exceptions.AuthenticationFailed: "身份验证失败",
    exceptions.PermissionDenied: "没有权限执行此操作",
    exceptions.NotFound: "未找到该记录",
    Http404: "未找到该记录",
    exceptions.MethodNotAllowed: "不支持该请求方法",
    exceptions.ParseError: "请求内容格式错误",
    exceptions.UnsupportedMediaType: "不支持的内容类型",
    exceptions.Throttled: "请求过于频繁",
}


def exception_handler(exc, context):
    # Imported here: this module is loaded while rest_framework.views itself is importing.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    for kind, text in MESSAGES.items():
        if isinstance(exc, kind) and isinstance(response.data, dict) and "detail" in response.data:
            response.data = {"detail": text}
            break
    return response
