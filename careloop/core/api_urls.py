"""The API root: each app's router is included here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("org/", include("careloop.org.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
