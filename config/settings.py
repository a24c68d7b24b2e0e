"""Settings for the municipal funding application: one module, configured by the environment.

Environment variables:
- ``DJANGO_DEBUG`` — development mode; off unless set (``make run`` and ``make test`` set it).
- ``DJANGO_SECRET_KEY`` — required when debug is off.
- ``DJANGO_ALLOWED_HOSTS`` — comma-separated; defaults to localhost names in debug.
- ``DATABASE_URL`` — e.g. ``postgres://user@127.0.0.1:5432/funding``; SQLite file ``db.sqlite3``
  in the project folder when unset.

With debug off the settings are production's: HTTPS only (redirect, HSTS, secure cookies), static
files with hashed names served by WhiteNoise, an enforced Content Security Policy (enforced in
debug too), throttled failed logins, logs on standard error. Tuned by:

- ``DJANGO_SECURE_PROXY_SSL_HEADER`` — e.g. ``HTTP_X_FORWARDED_PROTO``: the TLS proxy's header.
- ``DJANGO_SECURE_SSL_REDIRECT`` — redirect http to https; on unless debug.
- ``DJANGO_HSTS_SECONDS`` (a year unless debug), ``DJANGO_HSTS_INCLUDE_SUBDOMAINS``,
  ``DJANGO_HSTS_PRELOAD`` (both on).
- ``DJANGO_CSRF_TRUSTED_ORIGINS`` — comma-separated ``https://host`` origins.
- ``DJANGO_AXES_FAILURE_LIMIT`` (5), ``DJANGO_AXES_COOLOFF_MINUTES`` (15): the login lockout.
- ``DJANGO_TRUSTED_PROXY_COUNT`` — proxies that append to X-Forwarded-For (0: trust none).
- ``DJANGO_STATIC_ROOT`` — where collectstatic writes; ``var/static`` in the project folder.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_meta_header, env_origins, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)

INSTALLED_APPS = [
    "config.admin_site.ProjectAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    "import_export",
    "simple_history",
    "funding",
    "programs",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files answered before the rest of the stack; SecurityMiddleware still adds its
    # headers (HSTS, nosniff) to them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the others, so that every page gets the policy, the lockout page included.
    "config.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # PostgreSQL refuses a NUL in any query; a URL parameter holding one gets a 400 instead of
    # a server error in every list and filter.
    "config.middleware.RefuseNulInQueryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change in the history of money-bearing models.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Turns a login refused for too many failures into the lockout page; axes wants it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        # Django's, with bidi control characters removed from every page and document.
        "BACKEND": "config.templates.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections pay off in production; in development and tests they outlive
        # the live server's request threads and keep the test database from being dropped.
        conn_max_age=0 if DEBUG else 60,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username and address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Slovenian first; English for visitors who ask for it.
LANGUAGE_CODE = "sl"
LANGUAGES = [("sl", _("Slovenian")), ("en", _("English"))]
# The project's catalogue first; then Slovenian for the admin screens of django-import-export
# and django-simple-history, which ship none (locale_vendor/README.md).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
USE_I18N = True
TIME_ZONE = "Europe/Ljubljana"
USE_TZ = True
# Numbers as a Slovenian reader writes them: 1.234,56 — and dates as 25. 3. 2025.
USE_THOUSAND_SEPARATOR = True
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
# Where collectstatic writes and WhiteNoise serves from.
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # In production, names carry their content's hash (cached for a year by browsers) and
    # WhiteNoise serves gzip and Brotli variants; they need collectstatic first. Development
    # and tests read the files where they are.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# In development WhiteNoise finds files through the finders and sees edits at once; pinned to
# the environment's debug, because the test runner switches settings.DEBUG off.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "admin:login"

# HTTPS. Behind a proxy that terminates TLS, DJANGO_SECURE_PROXY_SSL_HEADER names the header it
# sets (HTTP_X_FORWARDED_PROTO: "X-Forwarded-Proto: https"); the proxy must overwrite that header
# on every request, or a client could claim HTTPS itself.
_proxy_ssl_header = env_meta_header("DJANGO_SECURE_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
# The preload flag only matters once the registrable domain itself sends it and is submitted
# to the browsers' list; on a subdomain (funding.obcina.si) it changes nothing.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Origins other than the site's own host allowed to POST (e.g. the public name of the proxy).
CSRF_TRUSTED_ORIGINS = env_origins("DJANGO_CSRF_TRUSTED_ORIGINS")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy, enforced in development too so that a violation shows at once.
# Nothing inline: scripts and styles come from the application's static files (the admin
# templates of the libraries that had inline code are overridden in templates/). PDFs get
# frame-ancestors only, or Chrome's viewer would be blocked (config/middleware.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Failed logins (django-axes): after AXES_FAILURE_LIMIT failures of one username from one
# address, that pair is refused for the cool-off, even with the right password.
AXES_FAILURE_LIMIT = env_int("DJANGO_AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# The logs name the address (for blocking it), not the username typed, which is now and
# then a password typed into the wrong field. The admin's access attempts keep both.
AXES_SENSITIVE_PARAMETERS = ["username"]
# Proxies in front of the application that append to X-Forwarded-For (nginx with
# $proxy_add_x_forwarded_for: 1). 0 trusts no header: the address is the connection's.
# (axes would read AXES_IPWARE_* through django-ipware, its optional extra; the project does not
# install it, and config.security.client_ip applies the same right-most rule.)
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)

# Everything to standard error, where gunicorn and journald collect it: requests that failed,
# security events (django.security: bad hosts, CSRF failures), failed logins and lockouts (axes).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # No handlers of their own: they propagate to the root's.
        "django": {"handlers": [], "level": "INFO"},
        "django.security": {"handlers": [], "level": "INFO"},
        "axes": {"handlers": [], "level": "INFO"},
        # Not the version banner on every management command.
        "axes.apps": {"handlers": [], "level": "WARNING"},
    },
}
