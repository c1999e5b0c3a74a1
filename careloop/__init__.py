"""CareLoop: the hospital customer-service centre's follow-up, survey, complaint and statistics system."""

__version__ = "0.1.0"
