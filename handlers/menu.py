"""Always-available commands: /start, /menu, /trogiup, /huy, and the main menu."""

from __future__ import annotations

from bot.i18n import N_
from handlers.base import REGISTRY, Answer, Command, Context, Flow, command

menu = Flow("menu")


def visible_commands(ctx: Context, *, menu_only: bool) -> list[Command]:
    """Commands this person may use, in registration order."""
    if ctx.person is None:
        found = [c for c in REGISTRY.commands.values() if not c.needs_person and c.public]
    elif ctx.is_guest:
        found = [
            c
            for c in REGISTRY.commands.values()
            if c.public and (c.menu or not menu_only) and (c.guests or not c.needs_person)
        ]
    else:
        found = [
            c
            for c in REGISTRY.commands.values()
            if c.public and (c.menu or not menu_only) and _shown(c, ctx.roles)
        ]
    return sorted(found, key=lambda c: c.order)


def _shown(cmd: Command, roles: set[str]) -> bool:
    allowed = cmd.shown_to if cmd.shown_to is not None else cmd.roles
    return allowed is None or bool(roles & allowed)


async def show_menu(ctx: Context, intro: str | None = None) -> None:
    """The main menu: one choice per command this person's roles allow."""
    items = [(c.name, ctx.t(c.description)) for c in visible_commands(ctx, menu_only=True)]
    name = ctx.person.full_name if ctx.person else ""
    ctx.ask(menu("pick"), intro or ctx.t("menu.title", name=name), items)


@menu.step("pick")
async def picked(ctx: Context, answer: Answer) -> None:
    cmd = REGISTRY.commands.get(answer.key or "")
    ctx.finish()
    if cmd is None:
        await show_menu(ctx)
        return
    await cmd.handler(ctx, "")


@command("start", N_("cmd.start"), needs_person=False, public=False)
async def start(ctx: Context, arg: str) -> None:
    """``/start`` opens the menu; ``/start CODE`` (a Telegram deep link) uses a code."""
    from handlers.join import use_code

    if arg:
        await use_code(ctx, arg)
    elif ctx.person is not None:
        ctx.finish()
        await show_menu(ctx)
    else:
        ctx.say(ctx.t("stranger.hello"))


@command("menu", N_("cmd.menu"), needs_person=False, aliases=("menu",), order=1)
async def menu_command(ctx: Context, _: str) -> None:
    ctx.finish()
    if ctx.person is None:
        ctx.say(ctx.t("stranger.hello"))
        return
    await show_menu(ctx)


@command(
    "trogiup",
    N_("cmd.help"),
    needs_person=False,
    aliases=("tro giup", "trogiup", "help", "giup", "huong dan"),
    menu=True,
    order=90,
)
async def help_command(ctx: Context, _: str) -> None:
    lines = [f"/{c.name} – {ctx.t(c.description)}" for c in visible_commands(ctx, menu_only=False)]
    listing = "\n".join(lines)
    if ctx.person is not None:
        ctx.say(ctx.t("help.member", commands=listing))
    else:
        ctx.say(ctx.t("help.stranger", commands=listing))
    ctx.repeat_question()


@command("huy", N_("cmd.cancel"), needs_person=False, aliases=("huy", "huy bo"), order=2)
async def cancel(ctx: Context, _: str) -> None:
    had_flow = ctx.state is not None and ctx.state.flow != menu.name
    ctx.finish()
    ctx.say(ctx.t("cancel.done") if had_flow else ctx.t("cancel.nothing"))
    if ctx.person is not None:
        await show_menu(ctx)


@command("unknown", N_("cmd.unknown"), needs_person=False, public=False)
async def unknown(ctx: Context, name: str) -> None:
    ctx.say(ctx.t("command.unknown", name=name))
    ctx.repeat_question()
