from django.contrib import admin

from careloop.org.models import Campus, Department, Leave, RosterEntry, ShiftPattern, Team


@admin.register(Campus)
class CampusAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "address"]
    search_fields = ["code", "name"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "campus", "building", "is_active"]
    list_filter = ["kind", "campus", "is_active"]
    search_fields = ["code", "name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department", "location"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members"]


@admin.register(ShiftPattern)
class ShiftPatternAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "start", "end", "team"]
    list_filter = ["team"]


@admin.register(RosterEntry)
class RosterEntryAdmin(admin.ModelAdmin):
    list_display = ["date", "shift", "staff", "department", "team"]
    list_filter = ["department", "team", "shift"]
    date_hierarchy = "date"
    search_fields = ["staff__username", "staff__full_name", "staff__staff_no"]
    autocomplete_fields = ["staff"]


@admin.register(Leave)
class LeaveAdmin(admin.ModelAdmin):
    list_display = ["staff", "starts_on", "ends_on", "note"]
    date_hierarchy = "starts_on"
    search_fields = ["staff__username", "staff__full_name", "staff__staff_no"]
    autocomplete_fields = ["staff"]
