from careloop.reports.views import urlpatterns as _views

app_name = "reports"

urlpatterns = [*_views]
