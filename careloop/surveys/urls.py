"""Staff pages under /surveys/ and the patient's page at /s/<token>/ (Q4: short, for an SMS).

Included at the site root so that both share the ``surveys`` namespace."""

from django.urls import path

from careloop.surveys import views

app_name = "surveys"

Q = "surveys/questionnaires/<slug:code>"
V = Q + "/v<int:number>"

urlpatterns = [
    path("surveys/questionnaires/", views.questionnaire_list, name="questionnaire_list"),
    path("surveys/questionnaires/add/", views.questionnaire_add, name="questionnaire_add"),
    path(f"{Q}/", views.questionnaire_detail, name="questionnaire_detail"),
    path(f"{Q}/edit/", views.questionnaire_edit, name="questionnaire_edit"),
    path(f"{Q}/draft/", views.version_draft, name="version_draft"),
    path(f"{V}/", views.version_detail, name="version_detail"),
    path(f"{V}/publish/", views.version_publish, name="version_publish"),
    path(f"{V}/discard/", views.version_discard, name="version_discard"),
    path(f"{V}/questions/add/", views.question_add, name="question_add"),
    path(f"{V}/questions/<int:pk>/", views.question_edit, name="question_edit"),
    path(f"{V}/questions/<int:pk>/delete/", views.question_delete, name="question_delete"),
    path(f"{V}/questions/<int:pk>/move/", views.question_move, name="question_move"),
    path("surveys/responses/", views.response_list, name="response_list"),
    path("surveys/responses/<int:pk>/", views.response_detail, name="response_detail"),
    path("s/<str:token>/", views.answer, name="answer"),
]
