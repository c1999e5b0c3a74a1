from django.contrib import admin

from careloop.jobs.models import ScheduledJob


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "enabled",
        "next_run_at",
        "last_status",
        "last_finished_at",
        "runs",
        "failures",
    ]
    list_editable = ["enabled"]
    readonly_fields = [
        f.name for f in ScheduledJob._meta.fields if f.name not in ("enabled", "next_run_at")
    ]
