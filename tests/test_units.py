"""The unit tree: any depth, "everything under X" as one range query, moves keep it whole."""

from __future__ import annotations

import pytest

from storage.db import Database
from storage.uow import unit_of_work


async def test_subtree_move_and_cycle_refusal(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with unit_of_work(db) as uow:
            units = uow.units
            root = await units.add("T", "Tỉnh đoàn", "province", None)
            a = await units.add("A", "Đoàn xã A", "grassroots", root)
            a1 = await units.add("A1", "Chi đoàn A1", "branch", a)
            a11 = await units.add("A11", "Phân đoàn A11", "cell", a1)
            b = await units.add("B", "Đoàn xã B", "grassroots", root)
            b10 = await units.add("B10", "Chi đoàn B10", "branch", b)  # id-prefix trap: 1 vs 10
            assert [u.code for u in await units.subtree(a)] == ["A", "A1", "A11"]
            assert {u.code for u in await units.subtree(root)} == {
                "T",
                "A",
                "A1",
                "A11",
                "B",
                "B10",
            }

            await units.move(a1, b)
            assert [u.code for u in await units.subtree(a)] == ["A"]
            assert {u.code for u in await units.subtree(b)} == {"B", "A1", "A11", "B10"}
            assert a11.depth == 3 and a11.path.startswith(b.path)
            assert [u.code for u in await units.ancestors(a11)] == ["T", "B", "A1"]

            with pytest.raises(ValueError, match="cycle"):
                await units.move(b, a11)
            assert b10.parent_id == b.id
            await uow.commit()
    finally:
        await db.dispose()
