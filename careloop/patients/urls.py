from django.urls import path

from careloop.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("<int:pk>/", views.patient_detail, name="patient_detail"),
    path("<int:pk>/reveal/", views.patient_reveal, name="patient_reveal"),
]
