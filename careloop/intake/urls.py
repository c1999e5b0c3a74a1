from django.urls import include, path

from careloop.intake import views

app_name = "intake"

urlpatterns = [
    path("imports/", views.importrun_list, name="importrun_list"),
    path("imports/<int:pk>/", views.importrun_detail, name="importrun_detail"),
    path("imports/<int:pk>/start/", views.importrun_start, name="importrun_start"),
    path("imports/<int:pk>/progress/", views.importrun_progress, name="importrun_progress"),
    path("imports/<int:pk>/errors/", views.importrun_errors, name="importrun_errors"),
    path("hl7/", include("careloop.intake.hl7.urls")),
]
