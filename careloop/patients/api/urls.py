from rest_framework.routers import SimpleRouter

from careloop.patients.api import views

app_name = "patients-api"

# SimpleRouter: these routes sit at the API root (/api/patients/, /api/visits/), and a
# DefaultRouter would claim /api/ itself for its index page.
router = SimpleRouter()
router.register("patients", views.PatientViewSet, basename="patient")
router.register("visits", views.VisitViewSet, basename="visit")
urlpatterns = router.urls
