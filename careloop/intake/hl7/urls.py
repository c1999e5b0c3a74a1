"""HL7 message log and dead-letter pages (URL names intake:hl7message_*)."""

from django.urls import path

from careloop.intake.hl7 import views

urlpatterns = [
    path("", views.hl7message_list, name="hl7message_list"),
    path("<int:pk>/", views.hl7message_detail, name="hl7message_detail"),
    path("<int:pk>/retry/", views.hl7message_retry, name="hl7message_retry"),
    path("<int:pk>/discard/", views.hl7message_discard, name="hl7message_discard"),
]
