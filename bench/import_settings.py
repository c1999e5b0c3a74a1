"""Settings for the django-import-export measurement only: CareLoop's settings plus its app.

The package is a benchmark-only extra (bench/requirements.txt); nothing in careloop/ uses it.
"""

from careloop.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "import_export"]  # noqa: F405
