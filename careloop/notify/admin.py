"""Read-only inspection of the outbox; messages change only through ``services``."""

from django.contrib import admin

from careloop.notify.models import InboundSms, LetterTemplate, OutboxMessage, SmsTemplate


@admin.register(SmsTemplate, LetterTemplate)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active", "updated_at"]


@admin.register(OutboxMessage)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ["pk", "status", "attempts", "next_attempt_at", "sent_at", "delivered_at"]
    list_filter = ["status"]
    exclude = ["phone", "phone_bidx"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InboundSms)
class InboundAdmin(admin.ModelAdmin):
    list_display = ["pk", "received_at", "opt_out", "matched_patients"]
    exclude = ["phone", "phone_bidx"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
