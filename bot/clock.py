"""The one source of "now", so tests can move time."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class OffsetClock:
    """The real clock plus a number of seconds read from a file (sandbox and tests only).

    End-to-end tests move time for a running bot process by writing the file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._mtime = -1.0
        self._offset = 0.0

    def __call__(self) -> datetime:
        try:
            mtime = os.stat(self.path).st_mtime
            if mtime != self._mtime:
                with open(self.path) as handle:
                    self._offset = float(handle.read().strip() or 0)
                self._mtime = mtime
        except (OSError, ValueError):
            pass
        return datetime.now(UTC) + timedelta(seconds=self._offset)
