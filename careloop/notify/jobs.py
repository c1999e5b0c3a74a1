"""Periodic jobs of the outbox (registered in apps.py)."""

from careloop.notify import services


def flush_outbox():
    """S4, F6: send what is due, with retries; nothing between 20:00 and 08:00."""
    return services.send_due()


def sms_stages():
    """F5: due SMS-channel follow-up tasks get their message."""
    return services.queue_stage_messages()
