"""What both webhook endpoints check before trusting a request."""

from __future__ import annotations

import hmac

from aiohttp import web


def secret_ok(request: web.Request, header: str, secret: str | None) -> bool:
    """True when no secret is configured or the header carries it (constant-time compare)."""
    if secret is None:
        return True
    given = request.headers.get(header, "")
    return hmac.compare_digest(given.encode(), secret.encode())
