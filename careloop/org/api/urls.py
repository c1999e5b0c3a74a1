from rest_framework.routers import DefaultRouter

from careloop.org.api import views

app_name = "org-api"

router = DefaultRouter()
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("roster", views.RosterEntryViewSet, basename="rosterentry")
urlpatterns = router.urls
