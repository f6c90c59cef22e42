"""What "my data" shows of "1+1": a member's count of recruits, a young person's own records."""

from __future__ import annotations

from bot.formatting import dmy
from handlers.base import Context
from handlers.oneplusone.common import stage_label


async def one_plus_one_data(ctx: Context, person_id: int) -> str:
    """Lines for ``/dulieucuatoi`` (empty when the person has nothing in "1+1")."""
    lines = []
    recorded = await ctx.uow.recruits.recorded_by(person_id)
    if recorded:
        lines.append(ctx.t("r11.mydata_member", n=recorded))
    for recruit in await ctx.uow.recruits.of_young_person(person_id):
        member = await ctx.uow.people.get(recruit.member_id) if recruit.member_id else None
        lines.append(
            ctx.t(
                "r11.mydata_recruit",
                member=member.full_name if member and member.full_name else ctx.t("r11.a_member"),
                activity=recruit.activity or "-",
                date=dmy(recruit.activity_on),
                stage=stage_label(ctx.t, recruit),
            )
        )
    return "".join(f"\n{line}" for line in lines)
