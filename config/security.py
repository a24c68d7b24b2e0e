"""Failed-login throttling (django-axes): where a request comes from, and the lockout page."""

import ipaddress
import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.shortcuts import render


def client_ip(request) -> str | None:
    """The client's address: the connection's, or the one the trusted proxies recorded.

    With ``TRUSTED_PROXY_COUNT`` = n, the n-th address from the right of X-Forwarded-For is the
    one the outermost trusted proxy saw; addresses to its left were written by the client and
    prove nothing. A header shorter than that, or not an address, means the request did not
    come through the proxies as configured: the connection's address is used.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def lockout_response(request, original_response, credentials):
    """The page shown while a username and address are locked out, in the user's language."""
    minutes = math.ceil(get_cool_off(request).total_seconds() / 60)
    return render(
        request,
        "axes/lockout.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
