from django.urls import path

from careloop.notify import views

app_name = "notify"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("outbox/", views.outbox_list, name="outbox_list"),
    path("outbox/<int:pk>/retry/", views.outbox_retry, name="outbox_retry"),
    path("outbox/<int:pk>/cancel/", views.outbox_cancel, name="outbox_cancel"),
    path("inbound/", views.inbound_list, name="inbound_list"),
    path("sms-templates/", views.smstemplate_list, name="smstemplate_list"),
    path("sms-templates/<int:pk>/", views.smstemplate_edit, name="smstemplate_edit"),
    path("sms-templates/<int:pk>/preview/", views.smstemplate_preview, name="smstemplate_preview"),
    path("letter-templates/", views.lettertemplate_list, name="lettertemplate_list"),
    path("letter-templates/<int:pk>/", views.lettertemplate_edit, name="lettertemplate_edit"),
    path(
        "letter-templates/<int:pk>/preview/",
        views.lettertemplate_preview,
        name="lettertemplate_preview",
    ),
    path("letters/", views.letter_batch, name="letter_batch"),
    path("home-visits/", views.home_visits, name="home_visits"),
    path("home-visits/<int:pk>/reveal/", views.home_visit_reveal, name="home_visit_reveal"),
    path("home-visits/<int:pk>/sheet/", views.home_visit_sheet, name="home_visit_sheet"),
    path("sms/callback/", views.sms_callback, name="sms_callback"),
    path("sms/inbound/", views.sms_inbound, name="sms_inbound"),
]
