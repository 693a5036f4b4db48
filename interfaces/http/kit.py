"""What every controller uses: the caller and back office as dependencies, the common
parameters, problem details, answers, CSV, and the one factory of command endpoints.

A command endpoint is made from its command type, never written by hand::

    command_endpoint("/{contract_id:uuid}/approve", ApproveContract, "Approve the current step")

The path's fields come from the path, the others are the JSON body (its schema is the
command's own fields less the path's, under the command's name); the answer is the
command's answer type plus the ``position`` of its events.
"""

from __future__ import annotations

import csv
import inspect
import io
import re
from datetime import date
from functools import cache
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, HeaderParameter, JSONBody, ParameterKwarg, PathParameter, QueryParameter

from application.caller import Caller
from application.handling import Answer, Command
from application.ledger import CommandResult
from application.reading import Reader, Reads, ScopeRule
from domain.access import Permission
from interfaces.composition import BackOffice

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://ironledger.example/problems/"

CallerDep = NamedDependency[Caller]
OfficeDep = NamedDependency[BackOffice]
IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", required=False, min_length=1, max_length=200,
    description="Send the same key when retrying: the first answer comes back and nothing is recorded twice.")]
After = Annotated[int | None, QueryParameter(
    name="after", required=False, ge=0,
    description="A command's position: wait (bounded) until this list includes that command's effect.")]
Page = Annotated[int, QueryParameter(name="page", ge=1, le=1_000_000)]
PageSize = Annotated[int, QueryParameter(name="page_size", ge=1, le=500)]
SerialPath = Annotated[str, PathParameter(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$")]
CodePath = Annotated[str, PathParameter(min_length=1, max_length=40)]


def problem(status: int, code: str, title: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> Response[dict[str, Any]]:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return Response({"type": PROBLEM_BASE + code, "code": code, "title": title, "status": status,
                     "detail": detail, **extra}, status_code=status, media_type=PROBLEM, headers=headers)


# ---------------------------------------------------------------- command answers
@cache
def positioned(answer_type: type[Answer]) -> type[msgspec.Struct]:
    """The HTTP answer of a command: its answer's fields and the position of its events."""
    return msgspec.defstruct(answer_type.__name__, [("position", int | None, None)], bases=(answer_type,),
                             kw_only=True, module=answer_type.__module__)


def answer(result: CommandResult) -> Response[Any]:
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    kind = positioned(type(result.answer))
    values = {name: getattr(result.answer, name) for name in type(result.answer).__struct_fields__}
    return Response(kind(**values, position=result.position), status_code=result.status_code, headers=headers)


_PATH_FIELD = re.compile(r"{(\w+):(\w+)}")


@cache
def body_of(command: type[Command], path_fields: frozenset[str]) -> type[msgspec.Struct] | None:
    """The JSON body of a command: its fields less those the path carries (None: no body)."""
    fields = [(f.name, f.type, f.default if f.default is not msgspec.NODEFAULT else
               msgspec.field(default_factory=f.default_factory) if f.default_factory is not msgspec.NODEFAULT
               else msgspec.NODEFAULT)
              for f in msgspec.structs.fields(command) if f.name not in path_fields]
    if not fields:
        return None
    if not path_fields:
        return command
    spec = [(name, kind) if default is msgspec.NODEFAULT else (name, kind, default) for name, kind, default in fields]
    return msgspec.defstruct(command.__name__, spec, kw_only=True, forbid_unknown_fields=True,
                             module=command.__module__)


def command_endpoint(path: str, command: type[Command], summary: str, *, description: str | None = None,
                     path_types: dict[str, Any] | None = None, status_code: int | None = None) -> HTTPRouteHandler:
    """The POST that gives ``command``: operationId = the command's name."""
    path_fields = {name: (path_types or {}).get(name, UUID if kind == "uuid" else str)
                   for name, kind in _PATH_FIELD.findall(path)}
    body = body_of(command, frozenset(path_fields))
    answer_type = positioned(command.answer_type)

    def endpoint(caller: Caller, backoffice: BackOffice, idempotency_key: str | None = None,
                 data: msgspec.Struct | None = None, **path_values: Any) -> Response[Any]:
        values = dict(path_values)
        if data is not None:
            values.update({name: getattr(data, name) for name in data.__struct_fields__})
        cmd = data if data is not None and type(data) is command else command(**values)
        return answer(backoffice.commands.execute(caller, cmd, idempotency_key))

    parameters = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                    annotation=kind if _declared_path(kind) else FromPath[kind])
                  for name, kind in path_fields.items()]
    if body is not None:
        parameters.append(inspect.Parameter("data", inspect.Parameter.KEYWORD_ONLY, annotation=JSONBody[body]))
    parameters += [inspect.Parameter("caller", inspect.Parameter.KEYWORD_ONLY, annotation=CallerDep),
                   inspect.Parameter("backoffice", inspect.Parameter.KEYWORD_ONLY, annotation=OfficeDep),
                   inspect.Parameter("idempotency_key", inspect.Parameter.KEYWORD_ONLY, default=None,
                                     annotation=IdempotencyKey)]
    endpoint.__signature__ = inspect.Signature(parameters, return_annotation=Response[answer_type])  # type: ignore[attr-defined]
    endpoint.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": Response[answer_type]}
    endpoint.__name__ = endpoint.__qualname__ = _snake(command.__name__)
    endpoint.__module__ = command.__module__
    return post(path, operation_id=command.operation(), sync_to_thread=True, summary=summary,
                description=description or (command.__doc__ or "").strip() or None,
                status_code=status_code or (201 if command.creates else 200),
                opt={"command": command})(endpoint)


def _declared_path(kind: Any) -> bool:
    return any(isinstance(m, ParameterKwarg) for m in getattr(kind, "__metadata__", ()))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# ---------------------------------------------------------------- reads
def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @ would be
    run as a formula, so it is prefixed with an apostrophe (OWASP CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(columns: tuple[str, ...], rows: Any, filename: str) -> Response[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


def query_day(value: date | None, name: str) -> date | None:
    """A date a query may ask about: within the years a dealer's books can hold."""
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ValidationException(f"{name}: a date from {EARLIEST} to {LATEST}.",
                                  extra=[{"key": name, "source": "query", "message": f"from {EARLIEST} to {LATEST}"}])
    return value


# ---------------------------------------------------------------- queries
def reads(read_model: str, permission: Permission | None, scope: ScopeRule = ScopeRule.COMPANIES) -> dict[str, Any]:
    """A GET's declaration (``opt=``): which read model answers, the permission, the scope rule.
    The handler then takes ``read: ReaderDep`` and asks ``read(query_function, *args)``."""
    return {"reads": Reads(read_model, permission, scope)}


def provide_reader(request: Request, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> Reader:
    spec: Reads = request.route_handler.opt["reads"]
    return backoffice.read_side.reader(caller, spec, after)


ReaderDep = NamedDependency[Reader]


def csv_export(read: Reader, columns: tuple[str, ...], filename: str, fn: Any, *args: Any) -> Response[str]:
    """A read model's rows as a CSV download, read in one transaction within the caller's scope."""
    return csv_response(columns, read(fn, *args), filename)
