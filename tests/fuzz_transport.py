"""Generators of what the HTTP and WebSocket transport can carry, for the fuzz tests:
arbitrary bytes, JSON of any shape, GraphQL request objects whose members have any type,
strings with lone surrogates (as JSON escapes), deep nesting, header names and values,
query strings, graphql-transport-ws messages, raw WebSocket frames, and HTTP/1.1 requests
whose body is framed every way a client can frame it."""

from typing import Any

import orjson
from hypothesis import strategies as st

from tests.raw_websocket import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, Frame

SURROGATE_ESCAPES = st.sampled_from(["\\ud800", "\\udfff", "\\ud83d", "\\udc00x"])

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

SUBSCRIPTION = (
    "subscription E($v: ID!, $x: String) { messageEvents(conversationId: $v, after: $x) { kind } }"
)
DOCUMENTS = st.sampled_from(
    [
        "{ __typename }",
        "query A { __typename } query B { __typename }",
        "mutation M { __typename }",
        "subscription S { __typename }",
        "{ viewer { role } }",
        "query Q($v: [ID!]!) { nodes(ids: $v) { id } }",
        "{",
        "",
        "fragment F on Query { ...F } { ...F }",
        SUBSCRIPTION,
    ]
)


@st.composite
def request_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A GraphQL request object whose members are of the right type or any other."""
    request: dict[str, Any] = {}
    for key, proper in (
        ("query", DOCUMENTS),
        ("operationName", st.sampled_from(["A", "B", "Q", "M", "S", "nope"])),
        ("variables", st.dictionaries(st.sampled_from(["v", "x"]), json_values, max_size=2)),
        ("extensions", st.dictionaries(st.sampled_from(["persistedQuery"]), json_values)),
    ):
        choice = draw(st.sampled_from(["proper", "proper", "absent", "any"]))
        if choice == "proper":
            request[key] = draw(proper)
        elif choice == "any":
            request[key] = draw(json_values)
    return request


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Request bodies: valid and invalid request objects, other JSON, deep nesting, lone
    surrogates spliced into strings, bytes that are not UTF-8, and plain noise."""
    kind = draw(st.sampled_from(["request", "request", "json", "deep", "surrogate", "bytes"]))
    if kind == "request":
        return orjson.dumps(draw(request_objects()))
    if kind == "json":
        return orjson.dumps(draw(json_values))
    if kind == "deep":
        depth = draw(st.integers(1, 5_000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        return opener * depth + b"1" + closer * depth
    if kind == "surrogate":
        field = draw(st.sampled_from(["operationName", "query"]))
        escape = draw(SURROGATE_ESCAPES)
        return f'{{"query": "{{ __typename }}", "{field}": "A{escape}"}}'.encode()
    return draw(st.binary(max_size=300))


CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/graphql",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "",
    ]
)

header_names = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz-0123456789"), min_size=1, max_size=20
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200
)
special_headers = st.sampled_from(
    ["authorization", "accept", "content-type", "x-request-id", "origin", "accept-encoding"]
)


@st.composite
def headers(draw: st.DrawFn) -> dict[str, str]:
    names = st.one_of(special_headers, header_names)
    return draw(st.dictionaries(names, header_values, max_size=5))


query_strings = st.lists(
    st.tuples(
        st.sampled_from(["query", "operationName", "variables", "extensions", "x"]),
        st.one_of(
            DOCUMENTS, st.text(max_size=40), json_values.map(lambda v: orjson.dumps(v).decode())
        ),
    ),
    max_size=4,
)


@st.composite
def ws_messages(draw: st.DrawFn) -> Any:
    """graphql-transport-ws messages of every shape: well-formed subscribes, subscribes
    with any member of any type, other message types, and JSON that is no message."""
    kind = draw(st.sampled_from(["subscribe", "subscribe", "other", "any"]))
    if kind == "any":
        return draw(json_values)
    if kind == "other":
        return {
            "type": draw(
                st.one_of(
                    st.sampled_from(["ping", "pong", "complete", "next", "bogus"]),
                    st.text(min_size=100, max_size=300),  # quoted in the close's reason
                )
            ),
            "id": draw(st.one_of(st.text(max_size=5), json_values)),
            "payload": draw(json_values),
        }
    message: dict[str, Any] = {"type": "subscribe"}
    message["id"] = draw(st.one_of(st.just("1"), st.text(max_size=5), json_values))
    message["payload"] = draw(st.one_of(request_objects(), json_values))
    return message


@st.composite
def ws_frames(draw: st.DrawFn) -> str | bytes:
    """WebSocket frames: a message of any shape (`ws_messages`) as JSON text, that text cut
    short, text that is no JSON, and binary frames."""
    kind = draw(st.sampled_from(["message", "message", "message", "cut", "text", "bytes"]))
    if kind == "text":
        return draw(st.one_of(st.text(max_size=40), SURROGATE_ESCAPES.map(lambda e: f'"{e}"')))
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    text = orjson.dumps(draw(ws_messages())).decode()
    if kind == "cut":
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    return text


RESERVED_OPCODES = st.sampled_from([3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
CLOSE_CODES = st.one_of(
    st.sampled_from([1000, 1001, 1005, 1006, 1011, 1015, 2999, 3000, 4400, 4999, 5000]),
    st.integers(0, 65535),
)


@st.composite
def close_payloads(draw: st.DrawFn) -> bytes:
    """A close frame's body: none, one byte, or a code of any value with a reason of any
    bytes (UTF-8 or not)."""
    kind = draw(st.sampled_from(["empty", "one byte", "code"]))
    if kind == "empty":
        return b""
    if kind == "one byte":
        return draw(st.binary(min_size=1, max_size=1))
    reason = draw(st.one_of(st.text(max_size=20).map(str.encode), st.binary(max_size=20)))
    return draw(CLOSE_CODES).to_bytes(2, "big") + reason


@st.composite
def raw_frames(draw: st.DrawFn) -> Frame:
    """One WebSocket frame from a client that may break any rule of RFC 6455: a message of
    any shape as text, text that is not UTF-8, binary, pieces of a fragmented message
    (continuations in or out of turn), control frames (fragmented, over 125 bytes, close
    bodies of any code and reason), reserved opcodes and flags, an unmasked frame, a length
    spelled longer than it needs, and one announcing more than the server takes."""
    kind = draw(
        st.sampled_from(
            [
                "message",
                "message",
                "text",
                "binary",
                "fragment",
                "continuation",
                "control",
                "close",
                "reserved opcode",
                "reserved flags",
                "unmasked",
                "long length form",
                "oversized",
            ]
        )
    )
    message = orjson.dumps(draw(ws_messages()))
    if kind == "message":
        return Frame(TEXT, message)
    if kind == "text":
        return Frame(TEXT, draw(st.binary(max_size=40)))
    if kind == "binary":
        return Frame(BINARY, draw(st.binary(max_size=40)))
    if kind in ("fragment", "continuation"):
        opcode = draw(st.sampled_from([TEXT, BINARY])) if kind == "fragment" else CONTINUATION
        return Frame(opcode, message[: draw(st.integers(0, len(message)))], fin=draw(st.booleans()))
    if kind == "control":
        opcode = draw(st.sampled_from([PING, PONG]))
        payload = draw(st.binary(max_size=130))
        return Frame(opcode, payload, fin=draw(st.booleans()))
    if kind == "close":
        return Frame(CLOSE, draw(close_payloads()), fin=draw(st.booleans()))
    if kind == "reserved opcode":
        return Frame(draw(RESERVED_OPCODES), draw(st.binary(max_size=10)))
    if kind == "reserved flags":
        return Frame(TEXT, message, rsv=draw(st.integers(1, 7)))
    if kind == "unmasked":
        return Frame(TEXT, message, masked=False)
    if kind == "long length form":
        return Frame(TEXT, message, length_form=draw(st.sampled_from([16, 64])))
    # Only the header is sent: a server that waited for the body would fail the test's guard.
    return Frame(TEXT, declared=draw(st.sampled_from([2**20, 2**32, 2**63 - 1])))


BODY = orjson.dumps({"query": "query Framed { __typename }"})
HEAD = "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"


def http_request(headers: list[str], body: bytes) -> bytes:
    """A POST to /graphql with `headers` (framing ones among them) and `body` as given."""
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
        return http_request([f"content-length: {length}"], BODY)
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
        return http_request([f"content-length: {spelled}"], BODY)
    if kind == "two lengths":
        other = draw(st.sampled_from([length, length - 1, 0]))
        return http_request([f"content-length: {length}", f"content-length: {other}"], BODY)
    if kind == "over the limit":
        # Far past it: a body up to DRAIN_FACTOR times the limit is read before the 413.
        return http_request([f"content-length: {draw(st.sampled_from([2**40, 2**70]))}"], BODY)
    body = draw(chunked_bodies())
    if kind == "chunked":
        return http_request(["transfer-encoding: chunked"], body)
    if kind == "both":
        declared = draw(st.sampled_from([0, 5, len(body)]))
        return http_request(["transfer-encoding: chunked", f"content-length: {declared}"], body)
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
        return http_request([f"transfer-encoding: {coding}"], body)
    if kind == "noise size":
        noise = draw(st.sampled_from(["zz", "-1", "ffffffffffffffffffff", "1 1", ""]))
        return http_request(["transfer-encoding: chunked"], f"{noise}\r\n".encode() + body)
    first = http_request([f"content-length: {length}"], BODY)
    return first + draw(
        st.sampled_from([first, http_request(["transfer-encoding: chunked"], body)])
    )
