""" "1+1" through the real bot process, against the fake Telegram and Zalo servers.

Members record young people on both channels; one young person confirms through the
Telegram deep link, another declines on Zalo by typing the code; a member opens their
own code; stages move; the secretary confirms a recruit who has no app with a button;
the monthly reminder reaches only those behind, and stops once they reach the target;
the branch report (secretary, Telegram) and the upper-level report (standing
committee, Zalo) give the same numbers, and the upper one names nobody.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import httpx
import pytest
from openpyxl import load_workbook

from storage.models import Recruit, RecruitConsent
from tests.e2e.conftest import Sandbox
from tests.e2e.test_meetings_e2e import join_telegram, join_zalo
from tests.e2e.test_polls_e2e import TZ, expect, nothing_new, presses, rows, says, seen

pytestmark = pytest.mark.e2e
YEAR = datetime.now(UTC).year + 1  # a year ahead: people join today, weeks before


def local(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(YEAR, month, day, hour, tzinfo=TZ).astimezone(UTC)


async def record_on_telegram(sb: Sandbox, user: int, name: str) -> str:
    """Record ``name`` with buttons; returns the deep link's code."""
    tg = sb.telegram
    await says(tg, user, "/gioithieu", "Bạn đã vận động ai")
    await says(tg, user, name, "là gì của bạn")
    await presses(tg, user, "Bạn bè", "hoạt động nào")
    await says(tg, user, "Chủ nhật xanh", "ngày nào")
    await presses(tg, user, "Hôm nay", "đã tham gia hoạt động này chưa")
    await presses(tg, user, "Đã tham gia", "Lưu nhé")
    text = await presses(tg, user, "Lưu", r"t\.me/")
    found = re.search(r"https://t\.me/\w+\?start=([A-Z2-9]{8})", text)
    assert found, text
    return found.group(1)


async def record_on_zalo(sb: Sandbox, user: str, name: str, *, took_part: bool) -> str:
    """Record ``name`` by typing, as on Zalo; returns the code to type."""
    zl = sb.zalo
    await says(zl, user, "gioi thieu", "Bạn đã vận động ai")
    await says(zl, user, name, "là gì của bạn")
    await says(zl, user, "nguoi than", "hoạt động nào")
    await says(zl, user, "Hiến máu nhân đạo", "ngày nào")
    await says(zl, user, "hom nay", "đã tham gia hoạt động này chưa")
    await says(zl, user, "1" if took_part else "chua", "Lưu nhé")
    text = await says(zl, user, "luu", "nhắn mã")
    found = re.search(r"mã ([A-Z2-9]{4}-[A-Z2-9]{4})", text)
    assert found, text
    return found.group(1)


@pytest.mark.single_backend
async def test_one_plus_one_on_both_channels(sandbox: Sandbox) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    codes = sandbox.codes
    await join_telegram(sandbox, 911, codes["AP-PT-A1/secretary"], "Võ Thị Mai")
    await join_telegram(sandbox, 912, codes["AP-PT-A1/member"], "Lê Văn Nam")
    await join_zalo(sandbox, "zm_913", codes["AP-PT-A1/member"], "Trần Thị Bình")
    await join_zalo(sandbox, "zm_914", codes["AP-PT-A1/member"], "Đỗ Văn Hùng")
    await join_zalo(sandbox, "zs_915", codes["AP/standing"], "Phan Văn Tỉnh")

    # The day before the month's reminder (the 5th), weeks after joining.
    sandbox.move_clock_to(local(6, 4))
    link = await record_on_telegram(sandbox, 912, "Lan")
    await says(tg, 921, f"/start {link}", "Nếu bạn đồng ý, bot sẽ lưu")
    await presses(tg, 921, "Đồng ý", "Cảm ơn bạn đã xác nhận")
    await expect(tg, 912, "Lan đã xác nhận được bạn giới thiệu")
    await says(tg, 921, f"/start {link}", "đã trả lời mã này rồi")  # opened twice

    code = await record_on_zalo(sandbox, "zm_913", "Minh", took_part=True)
    await says(zl, "zm_913", code, "chỉ bạn ấy mới tự xác nhận")  # the member's own code
    await says(zl, "zy_922", code.lower(), "Nếu bạn đồng ý, bot sẽ lưu")
    await says(zl, "zy_922", "khong dong y", "không lưu thông tin gì")
    await expect(zl, "zm_913", "không muốn bot lưu thông tin")
    await says(zl, "zy_922", code, "đã được dùng")

    await record_on_zalo(sandbox, "zm_914", "Tuấn", took_part=False)  # no app: never answers

    # Stages move: Lan joins the Youth Federation.
    await says(tg, 912, "/tiendo11", "1/1")
    await presses(tg, 912, "Cập nhật: Lan", "cập nhật gì")
    await presses(tg, 912, "Đã vào Hội", "Lan – đã vào Hội")

    saved = {r.id: r for r in await rows(sandbox.database_url, Recruit)}
    consents = sorted(r.consent for r in saved.values())
    assert consents == [RecruitConsent.CONFIRMED, RecruitConsent.DECLINED, RecruitConsent.PENDING]
    assert [r.name for r in saved.values() if r.consent == RecruitConsent.DECLINED] == [None]

    # The 5th: only those behind hear (Hùng, and the secretary, who is a member too).
    marks = {912: seen(tg, 912), 911: seen(tg, 911), "zm_913": seen(zl, "zm_913")}
    hung = seen(zl, "zm_914")
    sandbox.move_clock_to(local(6, 5))
    await expect(zl, "zm_914", r"Nhắc nhẹ “1\+1” năm \d+: bạn đã có 0/1", after=hung)
    await expect(tg, 911, r"Nhắc nhẹ “1\+1”", after=marks[911])
    # ... and the secretary gets the branch's figures for the month.
    await expect(
        tg, 911, r"Chi đoàn ấp 1: 2/4 đoàn viên đạt chỉ tiêu; 2/4 thanh niên", after=marks[911]
    )
    await nothing_new(tg, 912, "Nhắc nhẹ", marks[912])
    await nothing_new(zl, "zm_913", "Nhắc nhẹ", marks["zm_913"])

    # Tuấn took part; the secretary confirms with the button the bot sent.
    await says(zl, "zm_914", "1+1", "0/1")
    await says(zl, "zm_914", "cap nhat: tuan", "cập nhật gì")
    await says(zl, "zm_914", "da tham gia hoat dong", "nhờ lãnh đạo chi đoàn")
    await expect(tg, 911, "Đỗ Văn Hùng báo: Tuấn")
    await presses(tg, 911, "Đúng, xác nhận", "Đã xác nhận Tuấn")
    await expect(zl, "zm_914", "đã xác nhận Tuấn")

    # The branch report (secretary, Telegram) and the province's (standing, Zalo) agree.
    branch = await says(tg, 911, "/baocao11", "Đoàn viên đạt chỉ tiêu")
    assert "📊 Đã ghi nhận 3 · tham gia 3 (vào Đoàn 0, vào Hội 1)" in branch, branch
    assert "🎯 Đoàn viên đạt chỉ tiêu: 3/4" in branch
    assert "⬜ Võ Thị Mai – 0/1" in branch and "✅ Lê Văn Nam – 1/1" in branch
    assert "Lan" in branch and "Minh" not in branch  # Minh declined: no name kept
    upper = await says(zl, "zs_915", "bao cao 1+1", "chi đoàn thực hiện")
    assert (
        "100% chi đoàn thực hiện (1/1), 3 thanh niên tham gia, 0 vào Đoàn, 1 vào Hội; "
        "3/4 đoàn viên đạt chỉ tiêu."
    ) in upper, upper
    link_text = await says(zl, "zs_915", "tai file excel", r"https?://\S+/media/")
    url = re.search(r"https?://\S+/media/\S+", link_text).group(0)  # type: ignore[union-attr]
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    cells = [
        str(value)
        for sheet in load_workbook(io.BytesIO(response.content)).worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    assert any("Chi đoàn ấp 1" in c for c in cells), cells
    names = ("Lan", "Tuấn", "Lê Văn Nam", "Trần Thị Bình", "Đỗ Văn Hùng", "Võ Thị Mai")
    assert not [c for c in cells if any(n in c for n in names)]  # counts only, above a branch

    # The secretary keeps the branch's plan: survey and plan, the bot counts the rest.
    await says(tg, 911, "/kehoach11", "Khảo sát: chưa có")
    await presses(tg, 911, "Ghi kết quả khảo sát", "bao nhiêu thanh niên")
    await says(tg, 911, "nhiều lắm", "chưa phải là một số")  # words, not a number: asked again
    await says(tg, 911, "khoảng 30 bạn", "Ghi chú ngắn")
    await presses(tg, 911, "Bỏ qua", "30 thanh niên chưa tham gia")
    await presses(tg, 911, "Ghi kế hoạch", "Chi đoàn sẽ làm gì")
    await says(tg, 911, "Mời thanh niên ấp dự Chủ nhật xanh", "Kế hoạch: có từ .*Chủ nhật xanh")

    # Next month: the secretary is still behind; Hùng reached the target, so no more.
    secretary, hung = seen(tg, 911), seen(zl, "zm_914")
    sandbox.move_clock_to(local(7, 5))
    await expect(tg, 911, r"Nhắc nhẹ “1\+1”", after=secretary)
    await nothing_new(zl, "zm_914", "Nhắc nhẹ", hung)
