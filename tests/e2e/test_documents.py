"""What the server says about itself: the OpenAPI document and the CSV export's headers."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD


@pytest.fixture(scope="module")
def document(demo_server) -> dict:
    answer = httpx.get(demo_server.url + "/docs/openapi.json", timeout=10)
    assert answer.status_code == 200
    return answer.json()


def _operation(document: dict, operation_id: str) -> dict:
    return next(op for item in document["paths"].values() for op in item.values()
                if op["operationId"] == operation_id)


def test_the_document_requires_the_bearer_token_by_default(document):
    assert document["security"] == [{"BearerToken": []}]
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), "operationIds are unique"


@pytest.mark.parametrize("operation_id", ["Login", "GetHealth"])
def test_public_operations_are_documented_as_needing_no_token(document, operation_id):
    # [] and [{}] both say "no security requirement" in OpenAPI 3.1; Litestar writes the latter.
    assert _operation(document, operation_id).get("security") in ([], [{}])


def test_login_is_documented_with_the_status_it_answers(demo_server, document):
    answer = httpx.post(demo_server.url + "/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert answer.status_code == 200
    assert str(answer.status_code) in _operation(document, "Login")["responses"]


def test_the_export_is_a_csv_attachment_with_a_header_row(demo_server):
    with demo_server.as_user("auditor") as auditor:
        answer = auditor.get("/machines/export")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][:2] == ["serial_number", "model_code"] and len(rows) > 50


def test_the_export_names_its_charset_once(demo_server):
    with demo_server.as_user("auditor") as auditor:
        content_type = auditor.get("/machines/export").headers["content-type"]
    parameters = [p.strip().lower() for p in content_type.split(";")[1:]]
    assert parameters == ["charset=utf-8"], content_type
