"""F6: the administrator sees, on every page, that a year's official calendar is missing."""

from careloop.calendars.services import warnings_for


def calendar_warnings(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"calendar_warnings": []}
    match = getattr(request, "resolver_match", None)
    if match is not None and match.app_name == "calendars":
        return {"calendar_warnings": []}  # the calendar page shows them in place
    return {"calendar_warnings": warnings_for(user)}
