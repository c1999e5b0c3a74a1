from django.urls import path

from careloop.followup import views

app_name = "followup"

urlpatterns = [
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<slug:slug>/", views.policy_detail, name="policy_detail"),
    path("policies/<slug:slug>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<slug:slug>/activate/", views.policy_activate, name="policy_activate"),
    path("policies/<slug:slug>/deactivate/", views.policy_deactivate, name="policy_deactivate"),
    path("policies/<slug:slug>/stages/add/", views.stage_add, name="stage_add"),
    path("policies/<slug:slug>/stages/preview/", views.stage_preview, name="stage_preview"),
    path("policies/<slug:slug>/stages/<int:pk>/", views.stage_edit, name="stage_edit"),
    path("policies/<slug:slug>/stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
    path(
        "policies/<slug:slug>/stages/<int:pk>/preview/",
        views.stage_preview,
        name="stage_preview",
    ),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/reassign/", views.task_reassign, name="task_reassign"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path(
        "tasks/<int:pk>/lift-exclusion/",
        views.task_lift_exclusion,
        name="task_lift_exclusion",
    ),
]
