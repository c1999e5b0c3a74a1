"""HL7 message log and dead-letter pages (URL names intake:hl7message_*)."""

urlpatterns: list = []
