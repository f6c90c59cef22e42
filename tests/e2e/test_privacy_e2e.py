"""Linking Telegram and Zalo, seeing one's data and deleting it, through the real process."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Sandbox
from tests.e2e.test_meetings_e2e import join_telegram, wait_for_text

pytestmark = [pytest.mark.e2e, pytest.mark.single_backend]


async def test_link_channels_see_and_delete_data(sandbox: Sandbox) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    await join_telegram(sandbox, 701, sandbox.codes["AP-PT-A1/member"], "Đinh Thị Yến")
    tg.user_says(701, "/lienket")
    code = re.search(r"Mã liên kết của bạn: (\w{8})", await wait_for_text(tg, 701, "Mã liên kết"))
    assert code is not None
    zl.user_says("zu_702", code.group(1).lower())
    await wait_for_text(zl, "zu_702", "Đã liên kết Zalo với tài khoản của Đinh Thị Yến")

    zl.user_says("zu_702", "du lieu cua toi")
    shown = await wait_for_text(zl, "zu_702", "Dữ liệu bot đang lưu về bạn")
    assert "Telegram: từ" in shown and "Zalo: từ" in shown and "Chi đoàn ấp 1" in shown

    zl.user_says("zu_702", "xoa du lieu")
    await wait_for_text(zl, "zu_702", "không hoàn tác")
    zl.user_says("zu_702", "1")
    await wait_for_text(zl, "zu_702", "Đã xóa dữ liệu cá nhân")
    code_, out = await sandbox.cli("members", "list", "--unit", "AP")
    assert code_ == 0 and "Đinh Thị Yến" not in out
    tg.user_says(701, "/dulieucuatoi")  # the linked Telegram account is gone too
    await wait_for_text(tg, 701, "Bạn chưa tham gia bot")
