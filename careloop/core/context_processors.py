from django.conf import settings

from careloop.core.navigation import menu_for


def careloop(request):
    user = getattr(request, "user", None)
    return {
        "hospital_name": settings.HOSPITAL_NAME,
        "menu": menu_for(user) if user is not None else [],
        "using_dev_keys": settings.USING_DEV_KEYS,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
