"""The permission check every page view starts with (O2): no permission, 403."""

from django.core.exceptions import PermissionDenied


def require_perm(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied
