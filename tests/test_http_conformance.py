"""GraphQL over HTTP: the graphql-http server audit, and the status codes behind it."""

import httpx

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
