"""S2: login events and model changes reach the audit log through signals (and only the audit
trail uses signals; business logic is called explicitly)."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from careloop.audit.choices import Action
from careloop.audit.services import diff, record_event, registered, snapshot


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    import time

    from careloop.accounts.middleware import LAST_SEEN, LOGIN_AT

    now = time.time()
    request.session[LOGIN_AT] = now
    request.session[LAST_SEEN] = now
    record_event(Action.LOGIN, request=request, actor=user, obj=user)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record_event(Action.LOGOUT, request=request, actor=user, obj=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    record_event(
        Action.LOGIN_FAILED,
        request=request,
        actor=None,
        actor_name=username,
        message=f"用户名：{username}",
    )


@receiver(user_locked_out)
def on_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    record_event(
        Action.LOCKED_OUT,
        request=request,
        actor=None,
        actor_name=(username or "")[:150],
        message=f"用户名 {username} 自 {ip_address} 连续登录失败，已锁定",
    )


@receiver(pre_save)
def remember_before(sender, instance, raw=False, **kwargs):
    if raw or registered(sender) is None or instance.pk is None:
        return
    old = sender._base_manager.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(old) if old is not None else None


@receiver(post_save)
def log_save(sender, instance, created, raw=False, **kwargs):
    if raw or registered(sender) is None:
        return
    after = snapshot(instance)
    before = None if created else getattr(instance, "_audit_before", None)
    if created or before is None:
        record_event(Action.CREATE, obj=instance, changes={k: [None, v] for k, v in after.items()})
        return
    changes = diff(before, after)
    if changes:
        record_event(Action.UPDATE, obj=instance, changes=changes)
    instance._audit_before = after


@receiver(post_delete)
def log_delete(sender, instance, **kwargs):
    if registered(sender) is None:
        return
    record_event(
        Action.DELETE, obj=instance, changes={k: [v, None] for k, v in snapshot(instance).items()}
    )


@receiver(m2m_changed)
def log_m2m(sender, instance, action, pk_set, model, **kwargs):
    if (
        action not in ("post_add", "post_remove", "post_clear")
        or registered(type(instance)) is None
    ):
        return
    field = next(
        (f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender),
        sender.__name__,
    )
    names = sorted(str(o) for o in model._default_manager.filter(pk__in=pk_set or []))
    verb = {"post_add": "添加", "post_remove": "移除", "post_clear": "清空"}[action]
    record_event(Action.UPDATE, obj=instance, changes={field: {verb: names}})
