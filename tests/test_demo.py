"""``doanbot demo``: the terminal chat, scripted, joining on Telegram and on Zalo."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.demo import demo_session

pytestmark = pytest.mark.e2e


async def test_demo_join_on_telegram_and_zalo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # messages are wrapped to the terminal
    printed: list[str] = []

    def typed() -> Iterator[str]:
        """What a person types; read lazily, after the banner showed the codes."""
        banner = "\n".join(printed)
        found = re.findall(r"^  (\S{8})  Chi đoàn ấp 1: đoàn viên", banner, re.M)
        assert found, banner
        yield found[0]  # as Telegram user 1001 (An)
        yield "1"  # presses "✅ Tôi đồng ý"
        yield "Nguyễn Văn An"
        yield "1"  # presses "✅ Đúng"
        yield ":zalo"
        yield found[0].lower()
        yield "1"  # Zalo has no buttons: the bot numbered the options
        yield "Trần Thị Bình"
        yield "1"
        yield ":who"
        yield ":quit"
        yield "never read"

    started = time.monotonic()
    code = await demo_session(typed(), printed.append, tmp_path / "demo")
    output = "\n".join(printed)
    assert code == 0, output
    assert "[1] ✅ Tôi đồng ý  [2] ❌ Không đồng ý" in output
    assert "👆 [1] ✅ Tôi đồng ý" in output
    assert "Chào mừng Nguyễn Văn An" in output
    assert "1. ✅ Tôi đồng ý" in output
    assert "Chào mừng Trần Thị Bình" in output
    assert "Khác / others: Telegram 1001 (An)" in output
    assert "never read" not in output
    log = (tmp_path / "demo" / "bot.log").read_text()
    assert "doanbot running" in log and "stopping" in log  # stopped with SIGTERM
    assert time.monotonic() - started < 30


async def test_demo_reports_a_bot_that_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", "false")  # exits at once, says nothing
    printed: list[str] = []
    code = await demo_session([], printed.append, tmp_path / "demo")
    assert code == 1
    assert "the bot did not start" in "\n".join(printed)
