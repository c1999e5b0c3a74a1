from django.urls import path

from careloop.calendars import views

app_name = "calendars"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("days/add/", views.calendarday_add, name="calendarday_add"),
    path("days/<int:pk>/edit/", views.calendarday_edit, name="calendarday_edit"),
    path("days/<int:pk>/delete/", views.calendarday_delete, name="calendarday_delete"),
    path("upload/", views.calendar_upload, name="calendar_upload"),
]
