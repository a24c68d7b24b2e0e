"""Small typed readers for environment variables that fail loudly on a bad value.

A typo in a production setting ("Flase", "yes please") must stop the server at start-up, not
silently fall back to a default.
"""

import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean; accepts 1/0, true/false, yes/no, on/off (any case)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no.")


def env_str(name: str, default: str | None = None) -> str | None:
    """Read a string; empty counts as unset."""
    raw = os.environ.get(name, "").strip()
    return raw or default


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list, ignoring blanks around items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Read a whole number of at least ``minimum`` (e.g. seconds, a count)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_origins(name: str) -> list[str]:
    """Read a comma-separated list of origins, each with its scheme: ``https://host[:port]``.

    Django compares a request's Origin header with these including the scheme, so a bare host
    name would never match; it is refused rather than silently ignored.
    """
    origins = env_list(name, [])
    for origin in origins:
        scheme, _, host = origin.partition("://")
        if scheme not in ("https", "http") or not host or "/" in host:
            raise ImproperlyConfigured(
                f"{name}={os.environ[name]!r}: {origin!r} is not an origin; "
                "write each as https://host (or http://host), without a path."
            )
    return origins


def env_meta_header(name: str) -> str | None:
    """Read the request.META name of an HTTP header, e.g. ``HTTP_X_FORWARDED_PROTO``."""
    value = env_str(name)
    if value is not None and not re.fullmatch(r"HTTP_[A-Z0-9_]+", value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a request header's META name; "
            "write it like HTTP_X_FORWARDED_PROTO (for X-Forwarded-Proto)."
        )
    return value
