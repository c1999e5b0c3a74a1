from careloop.cases.views import cases, disposal, escalations

app_name = "cases"

urlpatterns = [*cases.urlpatterns, *disposal.urlpatterns, *escalations.urlpatterns]
