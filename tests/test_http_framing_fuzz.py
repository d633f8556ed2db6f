"""HTTP/1.1 message framing from a hostile or broken client: a body's length spelled every
way a client can spell it, right or wrong (`Content-Length` with signs, spaces, leading
zeros, twice with two values, past `MAX_BODY_BYTES`; chunked bodies cut anywhere, sizes in
either case with leading zeros and extensions, trailers, sizes that do not match their
data; both headers at once; codings the server does not know; two requests in one write).

Whatever the framing: every answer is below 500; the server either answers it and then
serves the next request on the same connection with that request's own answer (no bytes
of a badly framed body are read as a request: no request smuggling), or closes the
connection; it logs no error and serves a new connection. A length announced and never
sent is left out: waiting for it is right, and bounded by `HTTP_BODY_TIMEOUT_SECONDS`.
"""

import asyncio

import orjson
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import RunningServer
from tests.raw_http import Answer, RawConnection
from tests.test_fuzz import TRANSPORT_SETTINGS, errors_logged_since

BODY = orjson.dumps({"query": "query Framed { __typename }"})
PROBE = orjson.dumps({"query": "query Probe { probe: __typename }"})
HEAD = "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"


def _request(headers: list[str], body: bytes) -> bytes:
    return (HEAD + "".join(f"{header}\r\n" for header in headers) + "\r\n").encode() + body


@st.composite
def chunked_bodies(draw: st.DrawFn) -> bytes:
    """BODY in chunks: each size in hex of either case, maybe with leading zeros and an
    extension, maybe one byte off; then the last chunk, maybe with trailers."""
    cuts = sorted(draw(st.sets(st.integers(1, len(BODY) - 1), max_size=4)))
    pieces = [BODY[a:b] for a, b in zip([0, *cuts], [*cuts, len(BODY)], strict=True)]
    out = b""
    for piece in pieces:
        size = len(piece) - draw(st.sampled_from([0, 0, 0, 1]))  # smaller: data left over
        spelled = draw(st.sampled_from(["{:x}", "{:X}", "000{:x}"])).format(size)
        extension = draw(st.sampled_from(["", ";a=b", ';a="b c"', "; a", ";" + "x" * 300]))
        out += f"{spelled}{extension}\r\n".encode() + piece + b"\r\n"
    trailers = draw(st.sampled_from(["", "x-trailer: 1\r\n", "content-length: 5\r\n", "bad\r\n"]))
    return out + b"0\r\n" + trailers.encode() + b"\r\n"


@st.composite
def framed_requests(draw: st.DrawFn) -> bytes:
    kind = draw(
        st.sampled_from(
            [
                "length",
                "length spelled",
                "two lengths",
                "over the limit",
                "chunked",
                "both",
                "codings",
                "pipelined",
                "noise size",
            ]
        )
    )
    length = len(BODY)
    if kind == "length":
        return _request([f"content-length: {length}"], BODY)
    if kind == "length spelled":
        spelled = draw(
            st.sampled_from(
                [
                    f"+{length}",
                    f" {length} ",
                    f"0{length}",
                    f"{length}.0",
                    f"-{length}",
                    f"{length}, {length}",
                ]
            )
        )
        return _request([f"content-length: {spelled}"], BODY)
    if kind == "two lengths":
        other = draw(st.sampled_from([length, length - 1, 0]))
        return _request([f"content-length: {length}", f"content-length: {other}"], BODY)
    if kind == "over the limit":
        # Far past it: a body up to DRAIN_FACTOR times the limit is read before the 413.
        return _request([f"content-length: {draw(st.sampled_from([2**40, 2**70]))}"], BODY)
    body = draw(chunked_bodies())
    if kind == "chunked":
        return _request(["transfer-encoding: chunked"], body)
    if kind == "both":
        declared = draw(st.sampled_from([0, 5, len(body)]))
        return _request(["transfer-encoding: chunked", f"content-length: {declared}"], body)
    if kind == "codings":
        coding = draw(
            st.sampled_from(
                [
                    "gzip, chunked",
                    "chunked, chunked",
                    "Chunked",
                    "identity",
                    "chunked, identity",
                    "xchunked",
                    " chunked",
                ]
            )
        )
        return _request([f"transfer-encoding: {coding}"], body)
    if kind == "noise size":
        noise = draw(st.sampled_from(["zz", "-1", "ffffffffffffffffffff", "1 1", ""]))
        return _request(["transfer-encoding: chunked"], f"{noise}\r\n".encode() + body)
    first = _request([f"content-length: {length}"], BODY)
    return first + draw(st.sampled_from([first, _request(["transfer-encoding: chunked"], body)]))


def _answer_problems(answer: Answer) -> list[str]:
    if answer.status >= 500:
        return [f"status {answer.status}: {answer.body[:200]!r}"]
    return []


async def _exchange(url: str, request: bytes) -> list[str]:
    """Sends `request`, reads what it is answered, then sends PROBE on the same connection
    while it is open: its answer must be PROBE's."""
    found: list[str] = []
    connection = await RawConnection.open(url)
    try:
        await connection.send_raw(request)
        expected = 1 + request.count(b"POST /graphql")  # the requests written, and the probe
        for _ in range(expected - 1):
            try:
                answer = await connection.answer("POST")
            except ConnectionResetError:
                return found
            found += _answer_problems(answer)
            if answer.headers.get("connection") == "close":
                return found
        await connection.send_raw(_request([f"content-length: {len(PROBE)}"], PROBE))
        try:
            answer = await connection.answer("POST")
        except ConnectionResetError:
            return found  # the server closed it after an answer that did not say so
        data = answer.json().get("data") if answer.status == 200 else None
        if data != {"probe": "Query"}:
            found.append(f"the probe got another answer: {answer.status} {answer.body[:200]!r}")
        return found
    finally:
        await connection.close()


@given(request=framed_requests())
@TRANSPORT_SETTINGS
def test_no_framing_gets_a_5xx_smuggles_a_request_or_logs_an_error(
    server: RunningServer, request: bytes
) -> None:
    since = len(server.logs())
    found = asyncio.run(_exchange(server.url, request))
    fresh = asyncio.run(_exchange(server.url, _request([f"content-length: {len(BODY)}"], BODY)))
    assert found + fresh + errors_logged_since(server, since) == [], request
