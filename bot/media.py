"""Charts and files on their way out: loading them for the sender, serving their links.

Telegram gets the bytes uploaded; Zalo can only show a photo by URL and has no files,
so it gets a link to ``GET /media/{token}`` on the bot's own HTTP server (under
``settings.public_url``). The token is the link's only secret: it is never logged,
and answers for unknown and expired tokens look the same.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from aiohttp import web

from bot.channels import Transient
from bot.clock import Clock
from bot.messages import DOCUMENT, PHOTO, Outgoing
from storage.db import Database
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

ROUTE = "/media/{token}"
#: What ``secrets.token_urlsafe(24)`` makes, with room to spare; anything else is a 404
#: without a database query.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: A broadcast sends one chart to hundreds of chats: keep a few loaded, up to this size.
CACHE_ITEMS = 8
CACHE_BYTES = 32 * 1024 * 1024


def media_url(public_url: str, token: str) -> str:
    """The public link of a media row."""
    return f"{public_url.rstrip('/')}/media/{token}"


def redact(text: str, token: str | None) -> str:
    """``text`` without the token (a platform error may quote the URL back)."""
    return text.replace(token, "<media>") if token else text


@dataclass(frozen=True)
class StoredMedia:
    """What the sender needs of a media row, detached from its session."""

    data: bytes
    content_type: str
    name: str
    expires_at: datetime


def file_name(name: str, content_type: str, kind: str) -> str:
    """The name to upload or download as: the stored one, else one from the type."""
    if name:
        return name
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    return ("chart" if kind == PHOTO else "file") + extension


class MediaLoader:
    """Loads media rows for the sender in short sessions, keeping the last few in memory."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: OrderedDict[str, StoredMedia] = OrderedDict()

    async def get(self, token: str, now: datetime) -> StoredMedia | None:
        cached = self._cache.get(token)
        if cached is not None and cached.expires_at > now:
            self._cache.move_to_end(token)
            return cached
        self._cache.pop(token, None)
        try:
            async with unit_of_work(self.db) as uow:
                row = await uow.media.get(token, now)
                found = (
                    None
                    if row is None
                    else StoredMedia(row.data, row.content_type, row.name, row.expires_at)
                )
        except Exception as exc:
            # The database is down: the message waits and is tried again, it is not lost.
            raise Transient(f"media could not be loaded: {type(exc).__name__}") from exc
        if found is not None:
            self._remember(token, found)
        return found

    def _remember(self, token: str, media: StoredMedia) -> None:
        if len(media.data) > CACHE_BYTES // 2:
            return
        self._cache[token] = media
        while len(self._cache) > CACHE_ITEMS or self._size() > CACHE_BYTES:
            self._cache.popitem(last=False)

    def _size(self) -> int:
        return sum(len(m.data) for m in self._cache.values())


async def attach(out: Outgoing, loader: MediaLoader, now: datetime, public_url: str | None) -> bool:
    """Fill ``out``'s transient media fields; False when its media is gone or expired.

    A gone media leaves ``out`` with its text only (``media_token`` cleared), so the
    adapters send what is left rather than failing the row.
    """
    token = out.media_token
    if not token:
        return True
    media = await loader.get(token, now)
    if media is None:
        out.media_token = None
        return False
    kind = out.media_kind if out.media_kind in (PHOTO, DOCUMENT) else DOCUMENT
    out.media_kind = kind
    out.media_data = media.data
    out.media_name = file_name(out.media_name or media.name, media.content_type, kind)
    out.media_expires_at = media.expires_at
    out.media_url = media_url(public_url, token) if public_url else None
    return True


# --- the HTTP route ------------------------------------------------------------------


def content_disposition(name: str) -> str:
    """``attachment`` with the name in ASCII and, for Vietnamese names, in UTF-8 too."""
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def media_handler(db: Database, clock: Clock) -> Handler:
    """``GET /media/{token}``: the bytes with their type, or 404 when unknown or expired."""

    async def serve(request: web.Request) -> web.StreamResponse:
        token = request.match_info.get("token", "")
        if not TOKEN_RE.match(token):
            return web.Response(status=404)
        now = clock()
        try:
            async with unit_of_work(db) as uow:
                row = await uow.media.get(token, now)
                if row is None:
                    return web.Response(status=404)
                data, content_type, name = row.data, row.content_type, row.name
                seconds = max(0, int((row.expires_at - now).total_seconds()))
        except Exception:
            log.exception("media could not be read")  # no token: it is the link's secret
            return web.Response(status=503, headers={"Retry-After": "5"})
        headers = {
            # Only the person's own browser or app may keep it, and not past the expiry.
            "Cache-Control": f"private, max-age={seconds}",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if not content_type.startswith("image/"):
            headers["Content-Disposition"] = content_disposition(
                file_name(name, content_type, DOCUMENT)
            )
        media_type, _, params = content_type.partition(";")
        charset = params.partition("charset=")[2].strip() or None
        return web.Response(
            body=data, content_type=media_type.strip(), charset=charset, headers=headers
        )

    return serve
