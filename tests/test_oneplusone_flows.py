""" "1+1" in chat, in process: a member records a young person, the young person answers the
code (agrees, declines, twice, too late, as the member), the secretary confirms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import App
from bot.messages import Outgoing
from storage.models import Consent, Person, PersonStatus, Recruit, RecruitConsent, RecruitStage
from storage.uow import unit_of_work
from tests.support import Chat, MovableClock, texts
from tests.test_flows import joined
from tests.test_join_flow import seed

CODE = re.compile(r"mã ([A-Z2-9]{4}-[A-Z2-9]{4})")


def chat(app: App, channel: str, user: str, name: str = "Nguyễn Văn An") -> Chat:
    return Chat(app, app.channels[channel], user, display_name=name)  # type: ignore[arg-type]


async def record(member: Chat, name: str = "Lan", *, took_part: bool = True) -> str:
    """Record ``name`` through the menus (typed answers, as on Zalo); returns the code."""
    await member.says("/gioithieu")
    await member.says(name)
    await member.says("ban be")  # the option's words without diacritics
    await member.says("Chủ nhật xanh")
    await member.says("hôm nay")
    await member.says("1" if took_part else "2")
    out = await member.says("Lưu")
    found = CODE.search(texts(out))
    assert found, texts(out)
    return found.group(1)


def last_to(person: Chat) -> Outgoing:
    """The newest message delivered to ``person`` (replies and notices share a channel)."""
    return [o for o in person.channel.delivered if o.chat_id == person.chat_id][-1]


async def recruits(app: App) -> list[Recruit]:
    async with unit_of_work(app.db) as uow:
        return list((await uow.session.exec(select(Recruit).order_by(Recruit.id))).all())


@pytest.fixture
async def branch(app: App, clock: MovableClock) -> dict[str, Chat]:
    codes = await seed(app, clock)
    member = chat(app, "zalo", "zm1", "Trần Thị Bình")
    other = chat(app, "telegram", "tm2")
    secretary = chat(app, "telegram", "ts1")
    await joined(member, codes["AP-PT-A1/member"], "Trần Thị Bình")
    await joined(other, codes["AP-PT-A1/member"], "Phạm Văn Cường")
    await joined(secretary, codes["AP-PT-A1/secretary"], "Lê Thị Dung")
    return {"member": member, "other": other, "secretary": secretary}


async def test_recruit_confirms_and_the_member_hears_it(app: App, branch: dict[str, Chat]) -> None:
    member = branch["member"]
    code = await record(member)
    [saved] = await recruits(app)
    assert (saved.name, saved.stage, saved.consent) == ("Lan", "took_part", "pending")

    young = chat(app, "telegram", "ty1", "Lan Nguyen")
    out = await young.says(f"/start {code}")
    shown = texts(out)
    assert "Trần Thị Bình" in shown and "“Lan”" in shown and "Chủ nhật xanh" in shown
    assert "/xoadulieu" in shown  # says how to remove it, before agreeing
    async with unit_of_work(app.db) as uow:
        kept = await uow.session.exec(select(Person).where(Person.full_name == "Lan"))
        assert kept.first() is None  # nothing about them before they agree

    question = young.last_question()
    out = await young.presses("Đồng ý", on=question)
    assert "Cảm ơn bạn đã xác nhận" in texts(out)
    again = await young.presses("Đồng ý", on=question)  # pressed twice: an old button
    assert [o.kind for o in again] == ["answer"] and "cũ" in again[0].text, again
    heard = last_to(member)
    assert "Lan đã xác nhận được bạn giới thiệu" in heard.text and "1/1" in heard.text
    told = texts(await member.says("/tiendo11"))
    assert "1/1" in told and "đạt chỉ tiêu" in told
    [saved] = await recruits(app)
    assert saved.consent == RecruitConsent.CONFIRMED and saved.recruit_person_id is not None
    async with unit_of_work(app.db) as uow:
        guest = await uow.people.get(saved.recruit_person_id)
        assert guest is not None and guest.status == PersonStatus.GUEST
        consents = await uow.session.exec(select(Consent).where(Consent.person_id == guest.id))
        assert [c.purpose for c in consents.all()] == ["oneplusone"]

    # The young person is a guest: their own data only.
    assert "chưa là đoàn viên" in texts(await young.says("/tiendo11"))
    mine = texts(await young.says("/dulieucuatoi"))
    assert "Trần Thị Bình giới thiệu bạn" in mine
    # Opened again: nothing changes.
    assert "đã trả lời mã này rồi" in texts(await young.says(f"/start {code}"))
    assert len(await recruits(app)) == 1


async def test_decline_keeps_only_a_count(app: App, branch: dict[str, Chat]) -> None:
    member = branch["member"]
    code = await record(member)
    young = chat(app, "zalo", "zy1", "Minh")
    await young.says(code)
    out = await young.says("khong dong y")
    assert "không lưu thông tin gì" in texts(out)
    [saved] = await recruits(app)
    assert saved.consent == RecruitConsent.DECLINED
    assert saved.name is None and saved.relation is None and saved.recruit_person_id is None
    async with unit_of_work(app.db) as uow:
        people = (await uow.session.exec(select(Person).where(Person.status == "guest"))).all()
        assert people == []
    told = texts(await member.says("/tiendo11"))
    assert "1/1" in told and "ẩn danh" in told  # the count is the member's, the name is gone
    assert "đã được dùng" in texts(await young.says(code))  # a second opening


async def test_own_code_expired_code_and_duplicate(
    app: App, clock: MovableClock, branch: dict[str, Chat]
) -> None:
    member, other = branch["member"], branch["other"]
    code = await record(member)
    assert "chỉ bạn ấy mới tự xác nhận" in texts(await member.says(code))
    assert "đã là đoàn viên" in texts(await other.says(code))  # a member is not a recruit
    assert (await recruits(app))[0].consent == RecruitConsent.PENDING

    second = await record(other, "Lan")
    young = chat(app, "telegram", "ty9", "Lan")
    await young.says(f"/start {code}")
    await young.presses("Đồng ý")
    out = await young.says(f"/start {second}")
    assert "qua một đoàn viên khác" in texts(out)
    first, dup = await recruits(app)
    assert first.consent == RecruitConsent.CONFIRMED
    assert dup.consent == RecruitConsent.DUPLICATE and dup.name is None
    assert "0/1" in texts(await other.says("/tiendo11"))

    late = await record(other, "Hùng")
    clock.advance(days=15)
    out = await chat(app, "zalo", "zy5").says(late)
    assert "hết hạn" in texts(out) and "Phạm Văn Cường" in texts(out)


async def test_secretary_confirms_a_recruit_without_the_app(
    app: App, branch: dict[str, Chat]
) -> None:
    member, secretary = branch["member"], branch["secretary"]
    await record(member, "Tuấn", took_part=False)
    await member.says("/tiendo11")
    await member.presses("Tuấn")
    out = await member.presses("Đã tham gia hoạt động")
    assert "nhờ lãnh đạo chi đoàn" in texts(out) and "0/1" in texts(out)
    ask = last_to(secretary)
    assert ask.chat_id == "ts1" and "Tuấn" in ask.text, ask
    await secretary.presses("Đúng, xác nhận", on=ask)
    [saved] = await recruits(app)
    assert saved.verified_at is not None and saved.stage == RecruitStage.TOOK_PART
    assert "1/1" in texts(await member.says("/tiendo11"))
    again = await secretary.presses("Đúng, xác nhận", on=ask)
    assert "đã được xác nhận rồi" in texts(again)


async def test_bad_input_keeps_the_question(app: App, branch: dict[str, Chat]) -> None:
    member = branch["member"]
    await member.says("/gioithieu")
    assert "quá" in texts(await member.says("A" * 90 + " B"))  # an overlong name
    await member.says("Lan")
    assert "1" in texts(await member.says("xyz"))  # not one of the choices: asked again
    await member.says("2")
    assert "dài quá" in texts(await member.says("x" * 200))
    await member.says("Hiến máu")
    assert "chưa hiểu ngày" in texts(await member.says("ngày mai kia nữa"))
    assert "quá xa" in texts(await member.says("15/01/2024"))
    out = await member.says("20/11")
    assert "đã tham gia" in texts(out).lower()
    assert await recruits(app) == []


async def test_guest_joins_the_union_later_and_deletes_nothing_of_the_count(
    app: App, clock: MovableClock, branch: dict[str, Chat]
) -> None:
    member = branch["member"]
    code = await record(member)
    young = chat(app, "zalo", "zy2", "Lan")
    await young.says(code)
    await young.says("1")
    codes = await seed(app, clock)
    await young.says(codes["AP-PT-A2/member"])
    await young.says("1")
    await young.says("Nguyễn Thị Lan")
    out = await young.says("1")
    assert "Chào mừng" in texts(out)
    [saved] = await recruits(app)
    assert saved.stage == RecruitStage.JOINED and saved.joined_as == "union"
    assert "vừa vào Đoàn" in texts(member.channel.delivered)

    await young.says("/xoadulieu")
    await young.says("1")
    [saved] = await recruits(app)
    assert saved.consent == RecruitConsent.WITHDRAWN and saved.name is None
    assert "1/1" in texts(await member.says("/tiendo11"))


async def test_branch_plan_four_steps_and_evaluation(app: App, branch: dict[str, Chat]) -> None:
    member, secretary = branch["member"], branch["secretary"]
    code = await record(member)
    young = chat(app, "telegram", "ty3", "Lan")
    await young.says(f"/start {code}")
    await young.presses("Đồng ý")

    out = texts(await secretary.says("/kehoach11"))
    assert "Khảo sát: chưa có" in out and "1/3 thanh niên" in out, out
    await secretary.presses("khảo sát")
    assert "chưa phải là một số" in texts(await secretary.says("nhiều lắm"))
    await secretary.says("25 bạn")
    out = texts(await secretary.presses("Bỏ qua"))
    assert "25 thanh niên chưa tham gia" in out
    await secretary.presses("Ghi kế hoạch")
    out = texts(await secretary.says("Mời tham gia Chủ nhật xanh"))
    assert "Mời tham gia Chủ nhật xanh" in out
    out = texts(await secretary.presses("Đánh giá năm 2026"))
    assert "1/3 thanh niên được tính" in out and "1/3 đoàn viên đạt" in out, out
    await secretary.presses("Hoàn thành tốt")
    out = texts(await secretary.says("Cần vận động thêm bạn học"))
    assert "Đã lưu đánh giá năm 2026" in out and "Hoàn thành tốt" in out
    async with unit_of_work(app.db) as uow:
        unit = await uow.units.by_code("AP-PT-A1")
        assert unit is not None and unit.id is not None
        plan = await uow.recruits.plan(unit.id, 2026)
    assert plan is not None and plan.grade == "good" and plan.surveyed == 25
    assert plan.figures["took_part"] == 1 and plan.figures["members"] == 3
    assert "chỉ dành cho cán bộ" in texts(await member.says("/kehoach11"))  # members may not


async def test_a_new_code_replaces_the_old_and_a_record_can_be_taken_back(
    app: App, branch: dict[str, Chat]
) -> None:
    member = branch["member"]
    old = await record(member, "Hoa")
    await member.says("/tiendo11")
    await member.says("cap nhat: hoa")
    out = texts(await member.says("gui lai ma xac nhan"))
    new = CODE.search(out)
    assert new and new.group(1) != old, out
    young = chat(app, "zalo", "zy7", "Hoa")
    assert "Mã không đúng" in texts(await young.says(old))
    [saved] = await recruits(app)
    assert saved.consent == RecruitConsent.PENDING  # the old code changed nothing
    assert "Nếu bạn đồng ý" in texts(await young.says(new.group(1)))
    await young.says("/huy")

    await member.says("/tiendo11")
    await member.says("cap nhat: hoa")
    out = texts(await member.says("xoa ban ghi nay"))
    assert "Đã xoá bản ghi về Hoa" in out and "chưa ghi nhận ai" in out
    assert await recruits(app) == []
    assert "Mã không đúng" in texts(await young.says(new.group(1)))  # nothing left


async def test_a_secretary_cannot_confirm_their_own_recruit(
    app: App, clock: MovableClock, branch: dict[str, Chat]
) -> None:
    secretary = branch["secretary"]
    await record(secretary, "Tâm", took_part=False)
    await secretary.says("/tiendo11")
    await secretary.presses("Tâm")
    out = texts(await secretary.presses("Đã tham gia hoạt động"))
    assert "nhờ lãnh đạo chi đoàn" not in out  # nobody else leads the branch: nobody was asked
    assert "Không có bản ghi" in texts(await secretary.says("/xacnhan11"))
    [saved] = await recruits(app)
    ask = f"!r11ok:{saved.id}:took_part"
    forged = await secretary._feed(secretary._incoming(callback_data=ask, callback_id="1"))
    assert "không tự xác nhận" in texts(forged)
    [saved] = await recruits(app)
    assert saved.verified_at is None

    # With a grassroots secretary on the bot, the branch secretary's recruit goes up to them.
    async with unit_of_work(app.db) as uow:
        unit = await uow.units.by_code("AP-PT")
        assert unit is not None and unit.id is not None
        invite = await uow.invites.create(
            unit_id=unit.id, role="secretary", now=clock(), valid_for=timedelta(days=1)
        )
        await uow.commit()
    above = chat(app, "telegram", "tg9", "Ngô Văn Xã")
    await joined(above, invite.code, "Ngô Văn Xã")
    await record(secretary, "Tín", took_part=False)
    await secretary.says("/tiendo11")
    await secretary.presses("Tín")
    assert "nhờ lãnh đạo chi đoàn" in texts(await secretary.presses("Đã tham gia hoạt động"))
    ask = last_to(above)
    assert ask.chat_id == "tg9" and "Lê Thị Dung báo: Tín" in ask.text, ask
    assert "Đã xác nhận Tín" in texts(await above.presses("Đúng, xác nhận", on=ask))

    # A branch with its own leaders keeps its names: nothing goes up, nothing can be taken.
    member = branch["member"]
    await record(member, "Vy", took_part=False)
    await member.says("/tiendo11")
    await member.says("cap nhat: vy")
    await member.says("da tham gia hoat dong")
    assert "Vy" in last_to(secretary).text
    listed = texts(await above.says("/xacnhan11"))
    assert "Tâm" in listed and "Vy" not in listed  # only the secretary's own recruit
    await above.says("/huy")
    vy = next(r for r in await recruits(app) if r.name == "Vy")
    forged = await above._feed(above._incoming(callback_data=f"!r11ok:{vy.id}:took_part"))
    assert "không còn chờ bạn" in texts(forged)
    assert next(r for r in await recruits(app) if r.name == "Vy").verified_at is None
    # Nor is there a branch plan for a grassroots union.
    assert "do từng chi đoàn lập" in texts(await above.says("/kehoach11"))


async def test_after_a_coming_activity_one_tap_says_they_came(
    app: App, clock: MovableClock, branch: dict[str, Chat]
) -> None:
    from scheduler.oneplusone import ask_after_activities

    member, secretary = branch["member"], branch["secretary"]
    await member.says("/gioithieu")
    await member.says("Quân")
    await member.says("1")
    await member.says("Chủ nhật xanh")
    out = await member.says("29/11")  # next Sunday: a coming activity, no "took part yet?"
    assert "Lưu nhé" in texts(out) and "đã liên hệ" in texts(out)
    await member.says("Lưu")
    clock.advance(days=8)  # the Monday after, 10:00
    assert await ask_after_activities(app.db, app.settings, clock) == 1
    await app.sender.drain()
    question = last_to(member)
    assert "Quân đã đến “Chủ nhật xanh” ngày 29/11/2026 chưa?" in question.text
    out = await member.presses("Bạn ấy đã đến", on=question)
    assert "Quân – đã tham gia hoạt động" in texts(out) and "nhờ lãnh đạo chi đoàn" in texts(out)
    assert "Quân" in last_to(secretary).text
    again = await member.presses("Bạn ấy đã đến", on=question)  # pressed twice
    assert "đã được cập nhật rồi" in texts(again)
    [saved] = await recruits(app)
    assert saved.stage == RecruitStage.TOOK_PART


async def test_a_guest_on_the_roster_becomes_that_roster_entry(
    app: App, clock: MovableClock, branch: dict[str, Chat]
) -> None:
    code = await record(branch["member"])
    young = chat(app, "zalo", "zy8", "Lan")
    await young.says(code)
    await young.says("1")
    async with unit_of_work(app.db) as uow:  # the secretary of ấp 2 imports their roster
        unit = await uow.units.by_code("AP-PT-A2")
        assert unit is not None and unit.id is not None
        listed = await uow.people.add("Nguyễn Thị Lan", "vi", PersonStatus.INVITED)
        await uow.people.add_membership(listed, unit, "member")
        invite = await uow.invites.create(
            unit_id=unit.id,
            role="member",
            now=clock(),
            valid_for=timedelta(days=7),
            person_id=listed.id,
        )
        await uow.commit()
    await young.says(invite.code)
    await young.says("1")  # agrees; the roster already has the name
    assert "Chào mừng Nguyễn Thị Lan" in texts(await young.says("1"))
    async with unit_of_work(app.db) as uow:
        people = (await uow.session.exec(select(Person).order_by(Person.id))).all()
        lan = [p for p in people if p.full_name == "Nguyễn Thị Lan"]
        assert len(lan) == 1 and lan[0].id == listed.id and lan[0].status == "active"
        assert not [p for p in people if p.status == PersonStatus.GUEST]
        identity = await uow.people.identity("zalo", "zy8")
        assert identity is not None and identity.person_id == listed.id
    [saved] = await recruits(app)
    assert saved.recruit_person_id == listed.id and saved.stage == RecruitStage.JOINED


async def test_the_secretary_opens_the_branch_report_from_the_monthly_summary(
    app: App, clock: MovableClock, branch: dict[str, Chat]
) -> None:
    from datetime import UTC, datetime

    from scheduler.oneplusone_summary import summarise_for_secretaries

    secretary = branch["secretary"]
    clock.now = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # the reminder day, 09:00
    assert await summarise_for_secretaries(app.db, app.settings, clock) == 1
    await app.sender.drain()
    summary = last_to(secretary)
    assert "Chi đoàn ấp 1: 0/3 đoàn viên đạt chỉ tiêu" in summary.text
    out = texts(await secretary.presses("Xem ai đã", on=summary))
    assert "⬜ Trần Thị Bình – 0/1" in out and "⬜ Lê Thị Dung – 0/1" in out


async def test_a_record_that_never_counted_gives_way_to_one_that_does(
    app: App, branch: dict[str, Chat]
) -> None:
    first = await record(branch["other"], "Lan", took_part=False)  # she did not come
    second = await record(branch["member"], "Lan")  # she came with someone else
    young = chat(app, "zalo", "zy11", "Lan")
    await young.says(first)
    await young.says("1")
    await young.says(second)
    assert "Cảm ơn bạn đã xác nhận" in texts(await young.says("1"))
    earlier, later = await recruits(app)
    assert earlier.consent == RecruitConsent.DUPLICATE and earlier.name is None
    assert later.consent == RecruitConsent.CONFIRMED and later.recruit_person_id is not None
    assert "1/1" in texts(await branch["member"].says("/tiendo11"))
    assert "không tính thêm" in last_to(branch["other"]).text
