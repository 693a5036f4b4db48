"""Fuzzing the whole OpenAPI of a real server with schemathesis: whatever a caller
sends, the answer is never a 5xx, and every 4xx is an RFC 9457 problem+json
(``application/problem+json`` with ``type`` ending in ``code``, ``status``,
``title`` and a ``detail`` a clerk can read).

Every operation of the document the server serves (``/docs/openapi.json``) is
fuzzed twice per store:

- as the administrator, who may do everything, so requests get past the
  permissions to the schemas, the services and the domain;
- with no token at all (no ``Authorization`` header): every operation but
  health and sign-in must be refused with the 401 problem, whatever else is wrong.

Each operation gets a few requests that fit its schema and a few that break it
(schemathesis's positive and negative generation), sent one at a time, without
shrinking: a failure names the request as generated, with a curl command to
replay it, and the fuzzing goes on, so one run reports every operation that
fails. A read's ``after`` beyond the log's head is refused at once (422) and
``page`` is bounded by the schema, so no request may take long: one that takes
more than ``SLOW_SECONDS`` fails too. Afterwards every read model must still be
running (a request the log took but a read model chokes on is a 5xx in waiting).

The server is this module's own, loaded with the demo group, so the fuzzer's
companies, users, approval rules and penalty rates disturb no other test.

Longer runs, locally (``IRONLEDGER_FUZZ_EXAMPLES`` requests per operation,
generation mode and caller; default 4; ``IRONLEDGER_FUZZ_SEED`` replays a run,
whose seed a failure reports)::

    IRONLEDGER_FUZZ_EXAMPLES=50 IRONLEDGER_TEST_STORES=sqlite .venv/bin/pytest tests/e2e/test_fuzz.py

Boundary values and missing or mistyped fields of every parameter (schemathesis's
coverage phase) come from its command line, against a server of your own::

    .venv/bin/st run http://127.0.0.1:8000/docs/openapi.json -H "Authorization: Bearer $TOKEN" \\
        --checks not_a_server_error --phases coverage,fuzzing -n 20 -w 1 --continue-on-failure
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import PROBLEM, Server, _launcher

EXAMPLES = int(os.environ.get("IRONLEDGER_FUZZ_EXAMPLES", "4"))
SEED = int(os.environ.get("IRONLEDGER_FUZZ_SEED") or random.getrandbits(32))
SLOW_SECONDS = 10.0  # a read waits at most 5 s for its read model (then 503): more is a hang
PUBLIC = {"/health", "/auth/login"}   # the operations that need no token


@pytest.fixture(scope="module")
def fuzz_server(store: str, request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if store == "postgres":  # set up first, so that the database is dropped after the server stops
        request.getfixturevalue("postgres_database")
    with _launcher(request, tmp_path_factory) as launcher:
        data = launcher.new_store(store)
        data.run_cli("demo")
        yield launcher.serve(data)


def content_type(response: Any) -> str:
    """The media type of an answer (a schemathesis response's headers are lists, keyed as sent)."""
    value = next((v for k, v in response.headers.items() if k.lower() == "content-type"), "")
    return (value if isinstance(value, str) else value[0]).split(";")[0].strip()


def problem_in(response: Any) -> str | None:
    """What is wrong with a 4xx answer as an RFC 9457 problem, or None."""
    media_type = content_type(response)
    if media_type != PROBLEM:
        return f"content-type {media_type!r}"
    try:
        body = response.json()
    except ValueError:
        return "a body that is not JSON"
    if not isinstance(body, dict):
        return "a body that is not an object"
    code = body.get("code")
    if not (isinstance(code, str) and code and str(body.get("type", "")).endswith("/" + code)):
        return f"no code, or a type that does not end in it: {body}"
    if body.get("status") != response.status_code:
        return f"status {body.get('status')!r} in the body"
    if not (isinstance(body.get("title"), str) and body["title"].strip()):
        return "no title"
    if not (isinstance(body.get("detail"), str) and body["detail"].strip()):
        return "no detail"
    return None


def fault_in(case: Any, response: Any, token: str | None) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:400]}"
    if response.elapsed > SLOW_SECONDS:
        return f"took {response.elapsed:.1f} s (status {status})"
    if status >= 400 and (wrong := problem_in(response)):
        return f"{status} that is not a problem: {wrong}: {response.text[:300]}"
    if token is None and case.operation.path not in PUBLIC:
        # A path no route matches is a 404 before anyone asks for a token; anything else is refused.
        code = response.json().get("code") if status >= 400 else None
        if code not in ("unauthenticated", "no-such-route"):
            return f"{status} {code} without a token: {response.text[:300]}"
    return None


def fuzz(server: Server, token: str | None) -> tuple[Counter[str], list[str]]:
    """Sends EXAMPLES positive and EXAMPLES negative requests per operation; returns
    how many got each status and code, and a line per operation and mode that went wrong."""
    schema = schemathesis.openapi.from_url(server.url + "/docs/openapi.json", timeout=30)
    schema.config.update(base_url=server.url)
    answers: Counter[str] = Counter()
    faults: list[str] = []
    session = requests.Session()
    settings = hypothesis.settings(max_examples=EXAMPLES, phases=[Phase.generate], database=None, deadline=None,
                                   suppress_health_check=list(HealthCheck), verbosity=hypothesis.Verbosity.quiet,
                                   print_blob=False, report_multiple_bugs=False)
    operations = []
    for result in schema.get_all_operations():
        operations.append(result.ok())  # an operation schemathesis cannot read fails the test here
    assert len(operations) > 100, [o.label for o in operations]

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            def send(case: Any) -> None:
                case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
                if token is not None:
                    case.headers["Authorization"] = f"Bearer {token}"
                response = case.call(session=session, timeout=30)
                code = response.json().get("code") if content_type(response) == PROBLEM else None
                answers[f"{response.status_code} {code or ''}".strip()] += 1
                if fault := fault_in(case, response, token):
                    raise AssertionError(f"{fault}\n    {case.as_curl_command()}")

            test = hypothesis.seed(SEED)(settings(hypothesis.given(case=operation.as_strategy(mode))(send)))
            try:
                test()
            except (AssertionError, hypothesis.errors.FlakyFailure) as error:
                # Flaky: the request failed once and not when sent again (the server's state moved on).
                lines = str(error.exceptions[0] if isinstance(error, ExceptionGroup) else error).splitlines()
                faults.append(f"{operation.label} ({mode.value}): {lines[0]}\n"
                              + "\n".join(line for line in lines[1:] if "curl" in line))
            except hypothesis.errors.Unsatisfiable:
                pass  # no request of this mode fits (e.g. nothing to break in GET /health)
    session.close()
    return answers, faults


@pytest.mark.parametrize("caller", ["administrator", "no-token"])
def test_no_request_gets_a_5xx_and_every_4xx_is_a_problem(fuzz_server: Server, caller: str) -> None:
    token = fuzz_server.login("admin", ADMIN_PASSWORD) if caller == "administrator" else None
    answers, faults = fuzz(fuzz_server, token)
    print(f"{caller}, seed {SEED}: {answers.total()} requests;",
          ", ".join(f"{answer}: {n}" for answer, n in answers.most_common()))
    assert not faults, f"{len(faults)} operation(s) failed (IRONLEDGER_FUZZ_SEED={SEED}):\n" + "\n".join(faults)
    assert answers.total() >= EXAMPLES * 100, answers
    if token is not None:  # the token held all along, and many requests got through to an answer
        assert not answers["401 unauthenticated"], answers
        assert answers["200"] + answers["201"] >= EXAMPLES * 20, answers
    stopped = {name: r["error"] for name, r in fuzz_server.health()["read_models"].items() if r["error"]}
    assert not stopped, f"read models stopped by fuzzed requests: {stopped}\n{fuzz_server.log_tail()}"


# A value of each path parameter's type that its route matches (the schema's own bounds).
PATH_VALUES = {"uuid": "5b7f7e1e-0000-4000-8000-000000000000", "integer": "1", "string": "A1"}


@pytest.mark.parametrize("caller", ["administrator", "no-token"])
def test_an_undeclared_method_is_a_405_problem_that_says_what_the_path_takes(fuzz_server: Server,
                                                                               caller: str) -> None:
    """What schemathesis's ``unsupported_method`` check asks: every path of the document, sent
    a method it does not declare, answers 405 with ``Allow`` listing the methods it does."""
    token = fuzz_server.login("admin", ADMIN_PASSWORD) if caller == "administrator" else None
    faults = []
    with fuzz_server.client(token) as client:
        document = client.get("/docs/openapi.json").json()
        for template, item in document["paths"].items():
            declared = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
            path = template
            for parameter in (p for op in item.values() if isinstance(op, dict)
                              for p in op.get("parameters", []) if p["in"] == "path"):
                kind = parameter["schema"].get("format") or parameter["schema"].get("type", "string")
                path = path.replace("{" + parameter["name"] + "}", PATH_VALUES.get(kind, "A1"))
            for method in sorted({"PUT", "PATCH", "DELETE"} - declared):
                answer = client.request(method, path)
                allowed = {m.strip() for m in answer.headers.get("allow", "").split(",") if m.strip()}
                wrong = problem_in(answer) if answer.status_code == 405 else f"{answer.status_code}"
                if wrong or not declared <= allowed or method in allowed:
                    faults.append(f"{method} {path}: {wrong or ''} Allow: {answer.headers.get('allow')!r} "
                                  f"(declared {sorted(declared)}): {answer.text[:200]}")
    assert not faults, f"{len(faults)} path(s):\n" + "\n".join(faults)
