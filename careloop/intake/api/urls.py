from django.urls import path

from careloop.intake.api import views

app_name = "intake-api"

urlpatterns = [
    path("visits/", views.VisitUpsertView.as_view(), name="visit-upsert"),
]
