from rest_framework.routers import SimpleRouter

from careloop.cases.api import views

app_name = "cases-api"

router = SimpleRouter()
router.register("cases", views.CaseViewSet, basename="case")
urlpatterns = router.urls
