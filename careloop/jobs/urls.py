from django.urls import path

from careloop.jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.scheduledjob_list, name="scheduledjob_list"),
    path("<slug:name>/run/", views.scheduledjob_run, name="scheduledjob_run"),
]
