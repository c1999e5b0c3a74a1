from django.urls import path

from careloop.workspace import views

app_name = "workspace"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tasks/<int:pk>/claim/", views.claim, name="claim"),
    path("tasks/<int:pk>/release/", views.release, name="release"),
    path("tasks/<int:pk>/call/", views.call, name="call"),
    path("tasks/<int:pk>/attempt/", views.attempt, name="attempt"),
    path("tasks/<int:pk>/complete/", views.complete, name="complete"),
    path("tasks/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("tasks/<int:pk>/escalate/", views.escalate, name="escalate"),
    path("tasks/<int:pk>/case/", views.case_add, name="case_add"),
    path("tasks/<int:pk>/sms/preview/", views.sms_preview, name="sms_preview"),
    path("tasks/<int:pk>/sms/send/", views.sms_send, name="sms_send"),
    path("scripts/", views.script_list, name="script_list"),
    path("scripts/add/", views.script_add, name="script_add"),
    path("scripts/preview/", views.script_preview, name="script_preview"),
    path("scripts/<slug:code>/", views.script_edit, name="script_edit"),
    path("workload/", views.workload, name="workload"),
    path("board/", views.board, name="board"),
]
