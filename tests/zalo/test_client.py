"""Tests for bot.zalo.client against an httpx.MockTransport (no network)."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.zalo.client import (
    DEFAULT_BASE_URL,
    ZaloBadRequest,
    ZaloBlocked,
    ZaloBotClient,
    ZaloError,
    ZaloNetworkError,
    ZaloRateLimited,
    ZaloServerError,
    ZaloUnauthorized,
    quiet_httpx_request_log,
)

TOKEN = "1234567890:sEcReT-tOkEn_abcdefXYZ"
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A mock Zalo server: answers from a handler and remembers every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    @property
    def methods(self) -> list[str]:
        return [request.url.path.rsplit("/", 1)[-1] for request in self.requests]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]


def ok(result: Any) -> Handler:
    return lambda request: httpx.Response(200, json={"ok": True, "result": result})


def fail(error_code: int, description: str = "something went wrong") -> Handler:
    body = {"ok": False, "error_code": error_code, "description": description}
    return lambda request: httpx.Response(200, json=body)


@pytest.fixture
def make_client() -> Callable[[Handler], tuple[ZaloBotClient, Recorder]]:
    def make(handler: Handler) -> tuple[ZaloBotClient, Recorder]:
        recorder = Recorder(handler)
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
        return ZaloBotClient(TOKEN, http=http), recorder

    return make


def assert_no_token(exc: BaseException) -> None:
    rendered = "".join(traceback.format_exception(exc))
    assert TOKEN not in str(exc)
    assert TOKEN not in repr(exc)
    assert TOKEN not in rendered


# --- success ---------------------------------------------------------------------------


async def test_get_me_posts_to_the_method_url(make_client: Any) -> None:
    client, server = make_client(ok({"id": "bot1", "account_name": "doanbot"}))
    assert await client.get_me() == {"id": "bot1", "account_name": "doanbot"}
    (request,) = server.requests
    assert request.method == "POST"
    assert str(request.url) == f"{DEFAULT_BASE_URL}/bot{TOKEN}/getMe"
    assert request.headers["content-type"] == "application/json"


async def test_send_message_body(make_client: Any) -> None:
    client, server = make_client(ok({"message_id": "m1"}))
    assert await client.send_message("chat1", "Xin chào đoàn viên") == {"message_id": "m1"}
    assert server.methods == ["sendMessage"]
    assert server.bodies() == [{"chat_id": "chat1", "text": "Xin chào đoàn viên"}]


async def test_base_url_is_configurable() -> None:
    server = Recorder(ok({}))
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    client = ZaloBotClient(SecretStr(TOKEN), base_url="http://fake-zalo:8080/", http=http)
    await client.get_webhook_info()
    assert str(server.requests[0].url) == f"http://fake-zalo:8080/bot{TOKEN}/getWebhookInfo"


async def test_send_photo_and_chat_action_bodies(make_client: Any) -> None:
    client, server = make_client(ok({"message_id": "m2"}))
    await client.send_photo("c", "https://example.org/a.jpg", caption="Ảnh")
    await client.send_photo("c", "https://example.org/b.jpg")
    await client.send_chat_action("c")
    await client.send_sticker("c", "st1")
    assert server.methods == ["sendPhoto", "sendPhoto", "sendChatAction", "sendSticker"]
    assert server.bodies() == [
        {"chat_id": "c", "photo": "https://example.org/a.jpg", "caption": "Ảnh"},
        {"chat_id": "c", "photo": "https://example.org/b.jpg"},
        {"chat_id": "c", "action": "typing"},
        {"chat_id": "c", "sticker": "st1"},
    ]


async def test_webhook_methods(make_client: Any) -> None:
    client, server = make_client(ok({"url": "https://bot.example.org/zalo"}))
    await client.set_webhook("https://bot.example.org/zalo", "s" * 32)
    await client.delete_webhook()
    assert await client.get_webhook_info() == {"url": "https://bot.example.org/zalo"}
    assert server.methods == ["setWebhook", "deleteWebhook", "getWebhookInfo"]
    assert server.bodies()[0] == {"url": "https://bot.example.org/zalo", "secret_token": "s" * 32}


@pytest.mark.parametrize("secret", ["short", "x" * 257])
async def test_set_webhook_checks_the_secret_length(make_client: Any, secret: str) -> None:
    client, server = make_client(ok({}))
    with pytest.raises(ValueError) as info:
        await client.set_webhook("https://bot.example.org/zalo", secret)
    assert secret not in str(info.value)
    assert server.requests == []


async def test_non_dict_results_become_empty_dicts(make_client: Any) -> None:
    client, _ = make_client(ok(True))
    assert await client.delete_webhook() == {}


# --- getUpdates ------------------------------------------------------------------------


async def test_get_updates_returns_the_update(make_client: Any) -> None:
    update = {"event_name": "message.text.received", "message": {"text": "hi"}}
    client, server = make_client(ok(update))
    assert await client.get_updates(timeout=30) == update
    assert server.methods == ["getUpdates"]
    assert server.bodies() == [{"timeout": "30"}]


async def test_get_updates_http_timeout_outlasts_the_long_poll(make_client: Any) -> None:
    client, server = make_client(ok({"event_name": "message.text.received"}))
    await client.get_updates(timeout=45)
    read_timeout = server.requests[0].extensions["timeout"]["read"]
    assert read_timeout > 45


async def test_get_updates_408_means_nothing_new(make_client: Any) -> None:
    client, _ = make_client(fail(408, "Request timeout"))
    assert await client.get_updates(timeout=30) is None


async def test_get_updates_empty_result_means_nothing_new(make_client: Any) -> None:
    client, _ = make_client(ok(None))
    assert await client.get_updates(timeout=30) is None


async def test_408_outside_get_updates_is_an_error(make_client: Any) -> None:
    client, _ = make_client(fail(408))
    with pytest.raises(ZaloError) as info:
        await client.get_me()
    assert info.value.error_code == 408


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_code", "error_class"),
    [
        (400, ZaloBadRequest),
        (401, ZaloUnauthorized),
        (403, ZaloBlocked),
        (404, ZaloBadRequest),
        (429, ZaloRateLimited),
        (500, ZaloServerError),
        (418, ZaloError),
    ],
)
async def test_ok_false_maps_to_typed_errors(
    make_client: Any, error_code: int, error_class: type[ZaloError]
) -> None:
    client, _ = make_client(fail(error_code, "Nope"))
    with pytest.raises(ZaloError) as info:
        await client.send_message("c", "hello")
    assert type(info.value) is error_class
    assert info.value.error_code == error_code
    assert "Nope" in info.value.description
    assert "sendMessage" in str(info.value)
    assert_no_token(info.value)


async def test_error_code_as_string_is_understood(make_client: Any) -> None:
    body = {"ok": False, "error_code": "401", "description": "Unauthorized"}
    client, _ = make_client(lambda request: httpx.Response(200, json=body))
    with pytest.raises(ZaloUnauthorized):
        await client.get_me()


async def test_rate_limit_carries_retry_after(make_client: Any) -> None:
    body = {
        "ok": False,
        "error_code": 429,
        "description": "quota",
        "parameters": {"retry_after": 7},
    }
    client, _ = make_client(lambda request: httpx.Response(200, json=body))
    with pytest.raises(ZaloRateLimited) as info:
        await client.send_message("c", "x")
    assert info.value.retry_after == 7.0


async def test_http_429_with_retry_after_header(make_client: Any) -> None:
    client, _ = make_client(
        lambda r: httpx.Response(429, text="slow down", headers={"Retry-After": "3"})
    )
    with pytest.raises(ZaloRateLimited) as info:
        await client.send_message("c", "x")
    assert info.value.error_code == 429
    assert info.value.retry_after == 3.0


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_http_5xx_is_a_server_error(make_client: Any, status: int) -> None:
    client, _ = make_client(lambda request: httpx.Response(status, text="<html>Bad Gateway</html>"))
    with pytest.raises(ZaloServerError) as info:
        await client.get_me()
    assert info.value.error_code == status
    assert_no_token(info.value)


async def test_invalid_json_is_a_server_error(make_client: Any) -> None:
    client, _ = make_client(lambda request: httpx.Response(200, text="not json"))
    with pytest.raises(ZaloServerError):
        await client.get_me()


async def test_json_that_is_not_an_envelope_is_a_server_error(make_client: Any) -> None:
    client, _ = make_client(lambda request: httpx.Response(200, json=[1, 2]))
    with pytest.raises(ZaloServerError):
        await client.get_me()


async def test_http_401_without_json_is_unauthorized(make_client: Any) -> None:
    client, _ = make_client(lambda request: httpx.Response(401, text="Unauthorized"))
    with pytest.raises(ZaloUnauthorized):
        await client.get_me()


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError(f"cannot connect to /bot{TOKEN}/getMe"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
)
async def test_transport_errors_are_network_errors(make_client: Any, error: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    client, _ = make_client(handler)
    with pytest.raises(ZaloNetworkError) as info:
        await client.get_updates(timeout=30)
    assert info.value.error_code is None
    assert info.value.__cause__ is None
    assert_no_token(info.value)


async def test_token_echoed_by_the_server_is_scrubbed(make_client: Any) -> None:
    client, _ = make_client(fail(401, f"Invalid token {TOKEN}"))
    with pytest.raises(ZaloUnauthorized) as info:
        await client.get_me()
    assert_no_token(info.value)
    assert "<token>" in str(info.value)


# --- secrecy and lifecycle -------------------------------------------------------------


def test_repr_hides_the_token() -> None:
    for token in (TOKEN, SecretStr(TOKEN)):
        client = ZaloBotClient(token, http=httpx.AsyncClient())
        assert TOKEN not in repr(client)
        assert TOKEN not in str(client)


def test_empty_token_is_rejected() -> None:
    with pytest.raises(ValueError):
        ZaloBotClient("")


async def test_our_logs_never_contain_the_token(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = make_client(fail(401, f"bad token {TOKEN}"))
    with pytest.raises(ZaloUnauthorized):
        await client.get_me()
    ours = [record for record in caplog.records if record.name.startswith("bot.")]
    assert ours, "expected a debug record from bot.zalo.client"
    assert all(TOKEN not in record.getMessage() for record in ours)


async def test_quiet_httpx_request_log(make_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    httpx_logger = logging.getLogger("httpx")
    previous = httpx_logger.level
    caplog.set_level(logging.DEBUG)
    try:
        quiet_httpx_request_log()
        client, _ = make_client(ok({}))
        await client.get_me()
    finally:
        httpx_logger.setLevel(previous)
    assert TOKEN not in caplog.text


async def test_injected_http_client_is_left_open(make_client: Any) -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(ok({})))
    async with ZaloBotClient(TOKEN, http=http) as client:
        await client.get_me()
    assert not http.is_closed
    await http.aclose()


async def test_own_http_client_is_closed() -> None:
    client = ZaloBotClient(TOKEN)
    await client.aclose()
    assert client._http.is_closed


# --- long texts ------------------------------------------------------------------------


async def test_send_text_splits_long_text_in_order(make_client: Any) -> None:
    paragraphs = [f"Đoạn {i}: " + "chữ " * 300 for i in range(4)]
    text = "\n\n".join(paragraphs)
    client, server = make_client(ok({"message_id": "m"}))
    results = await client.send_text("chat1", text)
    sent = [body["text"] for body in server.bodies()]
    assert len(sent) > 1
    assert len(results) == len(sent)
    assert set(server.methods) == {"sendMessage"}
    assert all(len(part) <= 2000 for part in sent)
    assert " ".join(" ".join(sent).split()) == " ".join(text.split())
    assert sent[0].startswith("Đoạn 0")
    assert all(body["chat_id"] == "chat1" for body in server.bodies())


async def test_send_text_short_text_is_one_message(make_client: Any) -> None:
    client, server = make_client(ok({"message_id": "m"}))
    assert await client.send_text("c", "  Chào bạn  ") == [{"message_id": "m"}]
    assert server.bodies() == [{"chat_id": "c", "text": "Chào bạn"}]


async def test_send_text_blank_sends_nothing(make_client: Any) -> None:
    client, server = make_client(ok({}))
    assert await client.send_text("c", " \n ") == []
    assert server.requests == []


async def test_send_message_refuses_text_over_the_limit(make_client: Any) -> None:
    client, server = make_client(ok({}))
    with pytest.raises(ValueError):
        await client.send_message("c", "x" * 2001)
    with pytest.raises(ValueError):
        await client.send_message("c", "")
    assert server.requests == []
