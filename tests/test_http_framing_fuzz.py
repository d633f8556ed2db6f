"""HTTP/1.1 message framing from a hostile or broken client: a body's length spelled every
way a client can spell it, right or wrong (`Content-Length` with signs, spaces, leading
zeros, twice with two values, past `MAX_BODY_BYTES`; chunked bodies cut anywhere, sizes in
either case with leading zeros and extensions, trailers, sizes that do not match their
data; both headers at once; codings the server does not know; two requests in one write).

Whatever the framing: every answer is below 500 (but the 501 of a transfer coding the
server does not implement); the server either answers it and then
serves the next request on the same connection with that request's own answer (no bytes
of a badly framed body are read as a request: no request smuggling), or closes the
connection; it logs no error and serves a new connection. A length announced and never
sent is left out: waiting for it is right, and bounded by `HTTP_BODY_TIMEOUT_SECONDS`.
"""

import asyncio

import orjson
from hypothesis import given
from hypothesis import strategies as st

from engagement_api.http.body_limit import CODING_CODE
from tests.conftest import RunningServer
from tests.fuzz_transport import BODY, framed_requests, http_request
from tests.raw_http import Answer, RawConnection
from tests.test_fuzz import TRANSPORT_SETTINGS
from tests.ws_client import errors_logged_since

PROBE = orjson.dumps({"query": "query Probe { probe: __typename }"})


def _answer_problems(answer: Answer) -> list[str]:
    if answer.status == 501 and answer.codes() == [CODING_CODE]:
        return []
    if answer.status >= 500:
        return [f"status {answer.status}: {answer.body[:200]!r}"]
    return []


async def _exchange(url: str, request: bytes) -> list[str]:
    """Sends `request` and reads its answers: the first request is always answered. Then,
    unless an answer closed the connection, PROBE on the same connection gets its own
    answer."""
    found: list[str] = []
    connection = await RawConnection.open(url)
    try:
        await connection.send_raw(request)
        for written in range(request.count(b"POST /graphql")):
            try:
                answer = await connection.answer("POST")
            except ConnectionResetError:
                return found if written else [*found, "closed without an answer"]
            found += _answer_problems(answer)
            if answer.headers.get("connection") == "close":
                return found
        await connection.send_raw(http_request([f"content-length: {len(PROBE)}"], PROBE))
        try:
            answer = await connection.answer("POST")
        except ConnectionResetError:
            return [*found, "the probe was not answered on a connection kept alive"]
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
    since = server.log_offset()
    found = asyncio.run(_exchange(server.url, request))
    fresh = asyncio.run(_exchange(server.url, http_request([f"content-length: {len(BODY)}"], BODY)))
    assert found + fresh + errors_logged_since(server, since) == [], request


CHUNKED = f"{len(BODY):x}\r\n".encode() + BODY + b"\r\n0\r\n\r\n"
CODINGS = st.sampled_from(["gzip", "x-gzip", "deflate", "compress", "br", "zstd", "identity"])


@st.composite
def coded_requests(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A chunked body whose `Transfer-Encoding` names other codings before `chunked` (in
    any case, with parameters or empty list elements, on one header line or several):
    the request and the codings the server does not implement, as it should name them."""
    codings = draw(st.lists(CODINGS | st.from_regex(r"\Ax-[a-z0-9]{1,8}\Z"), min_size=1))
    spelled = [
        draw(st.sampled_from([c, c.upper(), c.title()])) + draw(st.sampled_from(["", ";q=1"]))
        for c in codings
    ]
    elements = [*spelled, draw(st.sampled_from(["chunked", "Chunked", "CHUNKED"]))]
    if draw(st.booleans()):
        elements.insert(draw(st.integers(0, len(elements) - 1)), "")
    cut = draw(st.integers(0, len(elements) - 1))
    lines = [", ".join(elements[:cut]), ", ".join(elements[cut:])]
    headers = [f"transfer-encoding: {line}" for line in lines if line]
    return http_request(headers, CHUNKED), codings[:8]


async def _first_answer(url: str, request: bytes) -> Answer:
    connection = await RawConnection.open(url)
    try:
        await connection.send_raw(request)
        return await connection.answer("POST")
    finally:
        await connection.close()


@given(coded=coded_requests())
@TRANSPORT_SETTINGS
def test_a_transfer_coding_other_than_chunked_is_not_implemented(
    server: RunningServer, coded: tuple[bytes, list[str]]
) -> None:
    """RFC 9112 §6.1: 501 for a coding the server does not implement. Read as if sent as
    it is, a compressed body would be taken for the request."""
    request, codings = coded
    since = server.log_offset()
    answer = asyncio.run(_first_answer(server.url, request))
    assert (answer.status, answer.codes()) == (501, [CODING_CODE]), (request, answer)
    assert answer.json()["errors"][0]["extensions"]["codings"] == [c.lower() for c in codings]
    assert answer.headers.get("connection") == "close"
    assert errors_logged_since(server, since) == []
