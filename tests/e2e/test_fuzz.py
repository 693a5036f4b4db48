"""Fuzzing the whole OpenAPI of a real server with schemathesis: whatever a caller
sends, the answer is never a 5xx, and every 4xx is an RFC 9457 problem+json
with a stable ``type``/``code`` and a ``detail`` a clerk can read.

It runs twice per store: as the administrator (every operation is allowed, so
requests reach the schemas, the services and the domain) and with no token at
all (every operation but health and sign-in must be a 401 problem). The server
is one of this module's own, loaded with the demo group, so the fuzzer's
companies, users, approval rules and penalty rates disturb no other test.

Each operation gets a few generated requests, valid ones and ones that break
its schema (``GenerationMode`` positive and negative), with no shrinking: a
failure is reported as generated, with the curl command to replay it.

Longer runs, locally::

    IRONLEDGER_FUZZ_EXAMPLES=50 IRONLEDGER_TEST_STORES=sqlite \\
        .venv/bin/pytest tests/e2e/test_fuzz.py

``IRONLEDGER_FUZZ_EXAMPLES`` (default 4) is the number of generated requests per
operation, mode and caller; ``IRONLEDGER_FUZZ_COVERAGE=1`` adds schemathesis's
coverage phase (boundary values and missing or mistyped fields of every
parameter, tens of requests per operation); ``IRONLEDGER_FUZZ_SEED`` replays a run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import PROBLEM, Launcher, Server, _launcher

EXAMPLES = int(os.environ.get("IRONLEDGER_FUZZ_EXAMPLES", "4"))
COVERAGE = os.environ.get("IRONLEDGER_FUZZ_COVERAGE", "") not in ("", "0", "false")
SEED = os.environ.get("IRONLEDGER_FUZZ_SEED")
PUBLIC = {"/health", "/auth/login"}
SLOW_SECONDS = 5.0   # no request may wait: a read's ``after`` beyond the log is refused at once


@pytest.fixture(scope="module")
def fuzz_server(store: str, request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if store == "postgres":
        request.getfixturevalue("postgres_database")
    launcher: Launcher
    with _launcher(request, tmp_path_factory) as launcher:
        data = launcher.new_store(store)
        data.run_cli("demo")
        yield launcher.serve(data)


@pytest.fixture(params=["administrator", "no-token"])
def caller(request: pytest.FixtureRequest, fuzz_server: Server) -> dict[str, str]:
    """The headers every request of one run carries."""
    if request.param == "administrator":
        return {"Authorization": f"Bearer {fuzz_server.login('admin', ADMIN_PASSWORD)}"}
    return {}


@pytest.fixture
def api(fuzz_server: Server, caller: dict[str, str]) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/docs/openapi.json", timeout=30)
    schema.config.update(base_url=fuzz_server.url)
    schema.config.phases.update(phases=["examples", "fuzzing", *(["coverage"] if COVERAGE else [])])
    schema.config.generation.update(
        modes=list(GenerationMode), max_examples=EXAMPLES, no_shrink=True, database="none",
        # Without a token means without one: no generated Authorization header either.
        with_security_parameters=bool(caller))
    if SEED is not None:
        schema.config.seed = int(SEED)
    return schema


schema = schemathesis.pytest.from_fixture("api")


def check_answer(case: Any, response: Any) -> None:
    where = f"{case.method} {case.formatted_path}"
    status = response.status_code
    assert status < 500, f"{where}: {status} {response.text[:500]}\n{case.as_curl_command()}"
    assert response.elapsed.total_seconds() < SLOW_SECONDS, \
        f"{where}: took {response.elapsed.total_seconds():.1f} s\n{case.as_curl_command()}"
    if status < 400:
        return
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type == PROBLEM, \
        f"{where}: {status} as {media_type!r}: {response.text[:300]}\n{case.as_curl_command()}"
    body = response.json()
    assert isinstance(body, dict), f"{where}: {status} {response.text[:300]}"
    assert body.get("status") == status, f"{where}: {body}"
    code = body.get("code")
    assert isinstance(code, str) and code and body.get("type", "").endswith("/" + code), f"{where}: {body}"
    assert isinstance(body.get("title"), str) and body["title"], f"{where}: {body}"
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), f"{where}: {body}"


@schema.parametrize()
def test_no_request_gets_a_5xx_and_every_4xx_is_a_problem(case, caller: dict[str, str]) -> None:
    headers = dict(caller)
    if not caller and case.headers:
        case.headers.pop("Authorization", None)
    response = case.call(headers=headers, timeout=30)
    check_answer(case, response)
    if not caller and case.operation.path not in PUBLIC:
        # Refused before anything else; a path no route matches is a 404 even so.
        code = response.json().get("code")
        assert code in ("unauthenticated", "no-such-route"), \
            f"{case.method} {case.formatted_path} without a token: {response.status_code} {code}"
