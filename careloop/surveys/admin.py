from django.contrib import admin

from careloop.surveys.models import Questionnaire, QuestionnaireVersion


class VersionInline(admin.TabularInline):
    model = QuestionnaireVersion
    fields = ["number", "status", "published_at", "published_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    """Read-only here: questions are edited on the questionnaire pages, which version them (Q1)."""

    list_display = ["code", "name", "audience", "is_preset"]
    readonly_fields = ["code", "is_preset", "created_at"]
    inlines = [VersionInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
