"""Issue 6: the unread count behind the navbar's inbox badge."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject


def inbox(request):
    """``inbox_unread`` for a signed-in user: one COUNT over the (recipient, read_at) index,
    run only when a template shows it — htmx partials that do not extend base.html pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_unread": 0}
    from careloop.notify.inbox import unread_count

    return {"inbox_unread": SimpleLazyObject(lambda: unread_count(user))}
