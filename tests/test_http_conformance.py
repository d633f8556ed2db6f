"""GraphQL over HTTP: the graphql-http server audit, and the status codes behind it."""

import string
from urllib.parse import quote_from_bytes

import httpx
import pytest
from graphql import ExecutionResult, GraphQLError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement_api.errors import (
    CommitOutcomeUnknownError,
    RequestTimeoutError,
    ServiceUnavailableError,
)
from engagement_api.http.conformance import (
    APPLICATION_JSON,
    is_request_error,
    negotiate_media_type,
    request_error_status,
)
from tests.conftest import RunningServer
from tests.node_clients import run_node

GRAPHQL_RESPONSE = "application/graphql-response+json"


def test_graphql_http_server_audit_passes_every_audit(server: RunningServer) -> None:
    report = run_node("audit.mjs", server.graphql_url)
    assert report["failures"] == []
    assert report["passed"] == report["total"] >= 61


async def test_validation_error_is_400_without_data_for_graphql_response_json(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    response = await http.post(
        server.graphql_url, json={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in response.json()
    assert response.json()["errors"]


async def test_validation_error_is_200_with_null_data_for_application_json(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    response = await http.post(
        server.graphql_url, json={"query": "{ nope }"}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] is None


async def test_field_error_is_200_for_graphql_response_json(
    http: httpx.AsyncClient, server: RunningServer
) -> None:
    response = await http.post(
        server.graphql_url,
        json={"query": "{ __typename viewer { role } }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


ACCEPT_HEADERS = [
    (None, APPLICATION_JSON),
    ("*/*", APPLICATION_JSON),
    ("text/html", APPLICATION_JSON),
    ("application/json", APPLICATION_JSON),
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE},application/json;q=0.9", GRAPHQL_RESPONSE),  # Apollo Client 4
    (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
    (f"application/json;q=1, {GRAPHQL_RESPONSE};q=0.5", APPLICATION_JSON),
    (f"{GRAPHQL_RESPONSE};q=0, application/json", APPLICATION_JSON),
]
"""Accept headers and the media type each gets."""


@pytest.mark.parametrize(("accept", "expected"), ACCEPT_HEADERS)
def test_response_media_type_follows_the_accept_header(accept: str | None, expected: str) -> None:
    assert negotiate_media_type(accept) == expected


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (GraphQLError("Syntax Error: Unexpected Name"), 400),
        (ServiceUnavailableError(), 503),
        (RequestTimeoutError(), 504),
        (CommitOutcomeUnknownError(), 504),
    ],
)
def test_request_error_status_tells_bad_requests_from_server_conditions(
    error: GraphQLError, status: int
) -> None:
    result = ExecutionResult(data=None, errors=[error])
    assert is_request_error(result)
    assert request_error_status(result) == status


REFUSED = {
    "wrong content type": ("POST", {"content-type": "text/plain"}, b"{}", 415),
    "malformed JSON": ("POST", {"content-type": "application/json"}, b"{", 400),
    "a batch": ("POST", {"content-type": "application/json"}, b"[]", 400),
    "not an object": ("POST", {"content-type": "application/json"}, b"1", 400),
    "method": ("PUT", {"content-type": "application/json"}, b"{}", 405),
    "mutation over GET": ("GET", {}, b"", 405),
    "body too large": ("POST", {"content-type": "application/json"}, b" " * 600_000, 413),
}
"""Requests refused before any GraphQL work: (method, headers, body, status)."""
ACCEPTS = [accept for accept, _ in ACCEPT_HEADERS]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("refused", sorted(REFUSED))
async def test_a_refusal_before_graphql_is_in_the_media_type_the_client_accepts(
    http: httpx.AsyncClient, server: RunningServer, refused: str, accept: str | None
) -> None:
    """As an executed request's answer: a client that accepts only
    application/graphql-response+json is not answered application/json."""
    method, headers, body, status = REFUSED[refused]
    params = {"query": "mutation { __typename }"} if refused == "mutation over GET" else None
    response = await http.request(
        method,
        server.graphql_url,
        content=body or None,
        params=params,
        headers={**headers, **({"accept": accept} if accept is not None else {})},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == f"{negotiate_media_type(accept)}; charset=utf-8"
    assert response.json()["errors"][0]["extensions"]["code"]


CHARSET_NAMES = st.one_of(
    st.sampled_from(["utf-8", "UTF-8", "Utf-8", '"utf-8"', '"UTF-8"', "utf8", "latin1"]),
    st.sampled_from(["iso-8859-1", "us-ascii", "utf-16", "utf-16le", "windows-1252", '""', ""]),
    st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=10),
)
OTHER_PARAMETERS = st.lists(st.sampled_from(["foo=bar", "q=1", 'x="a;b"']), max_size=2)


@given(
    charset=CHARSET_NAMES,
    name=st.sampled_from(["charset", "Charset", "CHARSET"]),
    around=st.sampled_from(["", " ", "  "]),
    others=OTHER_PARAMETERS,
    place=st.integers(0, 2),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_body_is_read_as_utf8_only_and_another_charset_is_refused(
    server: RunningServer, charset: str, name: str, around: str, others: list[str], place: int
) -> None:
    """A body declared in another charset would be decoded wrongly as UTF-8: 415, as the
    GraphQL over HTTP spec allows; UTF-8 (however spelled) or no charset is read."""
    parameters = [*others]
    parameters.insert(min(place, len(others)), f"{name}={charset}")
    content_type = "application/json" + "".join(f";{around}{item}" for item in parameters)
    response = httpx.post(
        server.graphql_url,
        content='{"query": "{ __typename }"}',
        headers={"content-type": content_type},
    )
    if charset.strip('"').lower() == "utf-8":
        assert response.status_code == 200, (content_type, response.text)
        assert response.json()["data"] == {"__typename": "Query"}
    else:
        assert response.status_code == 415, (content_type, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert "UTF-8" in response.json()["errors"][0]["message"]


ECHO = quote_from_bytes(b'query Q($v: String! = "") { __type(name: $v) { name } }')


@given(
    raw=st.binary(max_size=12).map(
        lambda raw: bytes(b for b in raw if b >= 0x20 and b not in b'"\\')
    ),
    parameter=st.sampled_from(["query", "variables", "operationName"]),
)
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_get_parameter_that_is_not_utf8_once_percent_decoded_is_refused(
    server: RunningServer, raw: bytes, parameter: str
) -> None:
    """Percent-decoded bytes that are not UTF-8 were read as U+FFFD, a value the client
    never sent; now they are refused, naming the parameter. UTF-8 ones are read as sent."""
    targets = {
        "query": "query=" + quote_from_bytes(b"# " + raw + b"\n") + ECHO,
        "variables": f"query={ECHO}&variables=" + quote_from_bytes(b'{"v": "' + raw + b'"}'),
        "operationName": f"query={ECHO}&operationName=" + quote_from_bytes(raw),
    }
    target = targets[parameter]
    response = httpx.get(f"{server.graphql_url}?{target}", headers={"accept": "application/json"})
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        assert response.status_code == 400, (target, response.text)
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert f"`{parameter}` is not UTF-8" in error["message"]
        return
    assert response.status_code == 200, (target, response.text)
    body = response.json()
    if parameter == "operationName" and text not in ("Q", ""):
        # a name the document does not define (empty is the same as omitted)
        assert (body["data"], body["errors"][0]["extensions"]["code"]) == (
            None,
            "OPERATION_NOT_FOUND",
        )
    else:
        assert "errors" not in body, (target, body)
        assert set(body["data"]) == {"__type"}


@pytest.mark.parametrize(
    "document",
    [
        "query Q { __typename }",
        "{ __typename }",
        "query A { a: __typename } query B { b: __typename }",
        "mutation M { __typename }",
        "query Q($v: String!) { __type(name: $v) { name } }",
    ],
)
def test_a_get_with_an_empty_operation_name_is_answered_as_one_without(
    server: RunningServer, document: str
) -> None:
    """GraphQL over HTTP, GET: an empty `operationName` is equivalent to omitting it."""
    answers = [
        httpx.get(
            server.graphql_url,
            params={"query": document, **extra},
            headers={"accept": "application/json"},
        )
        for extra in ({}, {"operationName": ""})
    ]
    without, empty = ((a.status_code, a.json()) for a in answers)
    assert empty == without
