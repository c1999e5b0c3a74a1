"""The API root: each app's router is included here; the schema and its docs page (served from
the installation, no CDN) sit beside them."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

docs = SpectacularSwaggerView.as_view(url_name="api-schema", template_name="api/docs.html")

urlpatterns = [
    path("", include("careloop.patients.api.urls")),
    path("org/", include("careloop.org.api.urls")),
    path("intake/", include("careloop.intake.api.urls")),
    path("", include("careloop.cases.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", login_required(docs), name="api-docs"),
]
