"""A cadre's "1+2" data is theirs too: shown in "my data", gone with "delete my data"."""

from __future__ import annotations

from bot.app import App
from storage.models import FieldCadre, FieldVisit, FieldVisitDay, VisitPlan
from tests.support import MovableClock, texts
from tests.test_visits_log import log_zalo, people, rows


async def test_my_data_shows_field_days_and_deleting_erases_them(
    app: App, clock: MovableClock
) -> None:
    _, zl, _, _ = await people(app, clock)
    assert "Đã ghi" in await log_zalo(zl, "18/11-20/11")
    out = await zl.says("du lieu cua toi")
    assert "Đi cơ sở (1+2): 3 ngày đã ghi, 0 đợt chuyên đề" in texts(out)
    await zl.says("xoa du lieu")
    out = await zl.says("1")
    assert "Đã xóa dữ liệu" in texts(out)
    assert await rows(app, FieldVisit) == [] and await rows(app, FieldVisitDay) == []
    assert await rows(app, FieldCadre) == [] and await rows(app, VisitPlan) == []
