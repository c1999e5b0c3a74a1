from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("CareLoop 系统管理")
admin.site.site_title = _("CareLoop 系统管理")
admin.site.index_title = _("系统配置")

urlpatterns = [
    path("", include("careloop.core.urls")),
    path("accounts/", include("careloop.accounts.urls")),
    path("audit/", include("careloop.audit.urls")),
    path("org/", include("careloop.org.urls")),
    path("jobs/", include("careloop.jobs.urls")),
    path("intake/", include("careloop.intake.urls")),
    path("patients/", include("careloop.patients.urls")),
    path("followup/", include("careloop.followup.urls")),
    path("notify/", include("careloop.notify.urls")),
    path("cases/", include("careloop.cases.urls")),
    path("workspace/", include("careloop.workspace.urls")),
    path("calendar/", include("careloop.calendars.urls")),
    path("reports/", include("careloop.reports.urls")),
    # Staff pages under surveys/ and the patients' survey links under s/ (Q4).
    path("", include("careloop.surveys.urls")),
    path("api/", include("careloop.core.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
