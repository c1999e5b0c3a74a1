from django.urls import path

from careloop.org import views

app_name = "org"

urlpatterns = [
    path("departments/", views.department_list, name="department_list"),
    path("departments/<int:pk>/", views.department_detail, name="department_detail"),
    path("roster/", views.rosterentry_list, name="rosterentry_list"),
    path("roster/<int:pk>/", views.rosterentry_detail, name="rosterentry_detail"),
]
