"""CareLoop settings. Every value comes from the environment (README: configuration reference);
with nothing set, the embedded default runs on SQLite under var/ with development keys."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from careloop.env import env_bool, env_int, env_list, env_str, load_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CARELOOP_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

PRODUCTION = env_bool("CARELOOP_PRODUCTION", False)
DEBUG = env_bool("CARELOOP_DEBUG", False)

SECRET_KEY, ENCRYPTION_KEYS, BLIND_INDEX_KEY, USING_DEV_KEYS = load_keys(VAR_DIR, PRODUCTION)

ALLOWED_HOSTS = env_list("CARELOOP_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CARELOOP_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "careloop.core",
    "careloop.accounts",
    "careloop.audit",
    "careloop.org",
    "careloop.jobs",
    "careloop.patients",
    "careloop.calendars",
    "careloop.intake",
    "careloop.followup",
    "careloop.surveys",
    "careloop.notify",
    "careloop.cases",
    "careloop.workspace",
    "careloop.reports",
    "careloop.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "careloop.core.middleware.DefaultLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "careloop.accounts.middleware.SessionLimitsMiddleware",
    "careloop.audit.middleware.AuditContextMiddleware",
    "careloop.accounts.middleware.AccountStateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "careloop.urls"
WSGI_APPLICATION = "careloop.wsgi.application"
ASGI_APPLICATION = "careloop.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "careloop.core.context_processors.careloop",
                "careloop.calendars.context_processors.calendar_warnings",
                "careloop.notify.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'careloop.sqlite3'}"),
        conn_max_age=env_int("CARELOOP_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while one writes; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # A file (the live-server thread and subprocesses must see it), one per test process so that
    # parallel runs never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-careloop-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
# The queue's pool index carries INCLUDE columns for PostgreSQL index-only scans; SQLite builds
# the same index without them, which is all it needs (the warning would print on every command).
SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# S1: password rules, all configurable.
PASSWORD_MIN_LENGTH = env_int("CARELOOP_PASSWORD_MIN_LENGTH", 8)
PASSWORD_MIN_CLASSES = env_int("CARELOOP_PASSWORD_MIN_CLASSES", 3)
PASSWORD_MAX_AGE_DAYS = env_int("CARELOOP_PASSWORD_MAX_AGE_DAYS", 90)
PASSWORD_HISTORY = env_int("CARELOOP_PASSWORD_HISTORY", 5)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "careloop.accounts.passwords.CharacterClassValidator"},
    {"NAME": "careloop.accounts.passwords.HistoryValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# S1: lockout (django-axes) after N failures for M minutes.
AXES_FAILURE_LIMIT = env_int("CARELOOP_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CARELOOP_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# S1: the lock lasts 30 minutes from the fifth failure; attempts while locked do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("CARELOOP_PROXY_COUNT", 0)

# S1: idle timeout and an absolute session limit (enforced by SessionLimitsMiddleware).
SESSION_IDLE_MINUTES = env_int("CARELOOP_IDLE_TIMEOUT_MINUTES", 30)
SESSION_MAX_HOURS = env_int("CARELOOP_SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
TOTP_REQUIRED_FOR_ADMINS = env_bool("CARELOOP_TOTP_REQUIRED_FOR_ADMINS", False)
TOTP_ISSUER = env_str("CARELOOP_TOTP_ISSUER", "CareLoop")

HTTPS = env_bool("CARELOOP_HTTPS", PRODUCTION)
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("CARELOOP_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("CARELOOP_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("CARELOOP_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("CARELOOP_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("CARELOOP_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
]
# Production serves the collected, hashed files; development and tests serve from the finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = Path(env_str("CARELOOP_MEDIA_ROOT", str(VAR_DIR / "media")))

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["careloop.core.api.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "careloop.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CareLoop API",
    "DESCRIPTION": "CareLoop 医院客服中心系统接口",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The interface description is for signed-in staff and system clients, not the whole intranet.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # No CDN on a hospital intranet: Swagger UI and ReDoc come from drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Models share field names ("status"); name each enum after its model, not the field.
    "ENUM_NAME_OVERRIDES": {
        "VisitStatusEnum": "careloop.patients.choices.VisitStatus",
        "CaseKindEnum": "careloop.cases.choices.CaseKind",
        "CaseSourceEnum": "careloop.cases.choices.CaseSource",
        "RecordSourceEnum": "careloop.patients.choices.Source",
    },
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
SCHEDULER_ENABLED = env_bool("CARELOOP_SCHEDULER", True)

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

HOSPITAL_NAME = env_str("CARELOOP_HOSPITAL_NAME", "示范医院")

# SMS (F6, S4): the outbox sends through one pluggable gateway — "file" (JSON lines, for
# development and demos), "console" (the log) or "http" (the hospital's SMS platform).
SMS_GATEWAY = env_str("CARELOOP_SMS_GATEWAY", "file").strip().lower()
SMS_FILE = Path(env_str("CARELOOP_SMS_FILE", str(VAR_DIR / "sms-outbox.log")))
SMS_HTTP_URL = env_str("CARELOOP_SMS_HTTP_URL", "")
SMS_HTTP_METHOD = env_str("CARELOOP_SMS_HTTP_METHOD", "POST").strip().upper()
SMS_HTTP_BODY = env_str(
    "CARELOOP_SMS_HTTP_BODY", '{"phone": "{phone}", "text": "{text}", "id": "{id}"}'
)
SMS_HTTP_CONTENT_TYPE = env_str("CARELOOP_SMS_HTTP_CONTENT_TYPE", "application/json; charset=utf-8")
SMS_HTTP_HEADERS = env_str("CARELOOP_SMS_HTTP_HEADERS", "")  # JSON object of extra headers
SMS_HTTP_SUCCESS = env_str("CARELOOP_SMS_HTTP_SUCCESS", "")  # substring, or "re:<regex>"
SMS_HTTP_ID_REGEX = env_str("CARELOOP_SMS_HTTP_ID_REGEX", "")
SMS_HTTP_TIMEOUT = env_int("CARELOOP_SMS_HTTP_TIMEOUT", 10)
SMS_MAX_ATTEMPTS = env_int("CARELOOP_SMS_MAX_ATTEMPTS", 5)
SMS_CALLBACK_TOKEN = env_str("CARELOOP_SMS_CALLBACK_TOKEN", "")

# Q3: satisfaction rate = (很好 + 好) / all ratings ("top2") or 很好 / all ("top_box").
CARELOOP_SATISFACTION_MODE = env_str("CARELOOP_SATISFACTION_MODE", "top2")
# Q4: how long a patient's survey link stays valid, and the address the SMS puts before it
# ("" keeps the link relative, e.g. for testing on the intranet).
CARELOOP_SURVEY_LINK_DAYS = env_int("CARELOOP_SURVEY_LINK_DAYS", 7)
CARELOOP_ATTACHMENT_MAX_MB = env_int("CARELOOP_ATTACHMENT_MAX_MB", 10)
CARELOOP_PUBLIC_BASE_URL = env_str("CARELOOP_PUBLIC_BASE_URL", "").rstrip("/")
# R1: the follow-up policy the monthly department table shows first (blank: every policy).
CARELOOP_R1_POLICY = env_str("CARELOOP_R1_POLICY", "discharge-nurse")
# The home page's per-role dashboard, loaded by name so that core does not import reports.
CARELOOP_DASHBOARD = "careloop.reports.dashboard.build"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("CARELOOP_LOG_LEVEL", "INFO")},
    # axes logs every failure at WARNING; the audit log (S2) already records them.
    "loggers": {"axes": {"level": "ERROR"}},
}
