"""Admin registrations for inspection. Policies are edited on the policy pages (which re-plan
after a change); tasks change only through ``services``, so they are read-only here."""

from django.contrib import admin

from careloop.followup.models import FollowUpTask, Policy, Stage, TaskEvent


class StageInline(admin.TabularInline):
    model = Stage
    fk_name = "policy"
    extra = 0
    fields = ["position", "code", "name", "anchor", "window_start_day", "window_end_day",
              "channel", "assignee_role"]  # fmt: skip
    show_change_link = True


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "is_active", "is_preset", "target_rate", "updated_at"]
    list_filter = ["is_active", "is_preset"]
    search_fields = ["slug", "name"]
    readonly_fields = ["is_active"]
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["policy", "position", "code", "name", "anchor", "channel", "assignee_role"]
    list_filter = ["policy", "channel", "assignee_role"]
    filter_horizontal = ["departments"]


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "at", "by", "note", "detail"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(admin.ModelAdmin):
    list_display = ["pk", "patient", "visit", "policy", "stage", "department", "assignee",
                    "window_start", "window_end", "status", "exclusion"]  # fmt: skip
    list_filter = ["status", "exclusion", "policy", "channel"]
    search_fields = ["patient__patient_no", "patient__name", "visit__visit_no"]
    list_select_related = ["patient", "visit", "policy", "stage", "department", "assignee"]
    date_hierarchy = "window_start"
    inlines = [TaskEventInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs & FollowUpTask.objects.visible_to(request.user)  # O3

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
