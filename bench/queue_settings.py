"""Settings for bench/queue: CareLoop's settings with one extra URL, a trivial authenticated
view served by the same stack (middleware, sessions, gunicorn) as the queue page."""

from careloop.settings import *  # noqa: F403

ROOT_URLCONF = "bench.queue_urls"
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
