"""Report pages; each module owns its URLs: monthly (R1), drill (the tasks behind a number),
register (R2), summary (R3), ranking (R4)."""

from careloop.reports.views import drill, monthly, ranking, register, summary

urlpatterns = [
    *monthly.urlpatterns,
    *drill.urlpatterns,
    *register.urlpatterns,
    *summary.urlpatterns,
    *ranking.urlpatterns,
]
