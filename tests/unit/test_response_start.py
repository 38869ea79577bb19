"""The one send wrapper per request that the request-wide layers share."""

from __future__ import annotations

from starlette.types import Message, Scope

from vylux_adapters.http.response_start import Headers, shape_response


def start_message(status: int, headers: Headers) -> Message:
    return {"type": "http.response.start", "status": status, "headers": headers}


async def test_only_the_first_layer_wraps_send_and_later_layers_share_its_start() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http"}
    outer, wrapped = shape_response(scope, send)
    inner, passed_on = shape_response(scope, wrapped)

    assert inner is outer
    assert passed_on is wrapped
    assert wrapped is not send
    assert not outer.started

    await passed_on(start_message(404, [(b"content-type", b"text/plain")]))
    await passed_on({"type": "http.response.body", "body": b"gone"})

    assert outer.started
    assert outer.status == 404
    assert sent[1] == {"type": "http.response.body", "body": b"gone"}


async def test_set_headers_replace_the_responses_own_and_edits_see_the_status() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http"}
    start, wrapped = shape_response(scope, send)
    start.set_headers[b"x-request-id"] = b"ours"
    seen: list[int] = []

    def edit(status: int, headers: Headers) -> None:
        seen.append(status)
        headers.append((b"x-status", str(status).encode()))

    start.on_start(edit)
    await wrapped(
        start_message(
            200, [(b"x-request-id", b"route's"), (b"etag", b'"1"'), (b"x-request-id", b"again")]
        )
    )

    assert seen == [200]
    assert sent[0]["headers"] == [
        (b"etag", b'"1"'),
        (b"x-request-id", b"ours"),
        (b"x-status", b"200"),
    ]
