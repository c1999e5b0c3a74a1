from django.urls import path

from careloop.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="auditevent_list"),
    path("export/", views.event_export, name="auditevent_export"),
]
