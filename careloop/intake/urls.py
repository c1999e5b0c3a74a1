from django.urls import include, path

app_name = "intake"

urlpatterns = [
    path("hl7/", include("careloop.intake.hl7.urls")),
]
