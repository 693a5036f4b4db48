"""Forms made from command types.

A command's fields (``msgspec.inspect``) give the form's fields: a text box for text, a
number for a count, an amount box for money, a date picker, a checkbox, a select for an
enum or for an id the page offers choices for, a fieldset for a nested part (instalments)
and rows for a list (contract lines, accessories). A posted form becomes the command with
the same conversion the API's JSON body gets; what cannot be converted, and a refusal of
the command, come back as messages beside the fields they concern, with the person's
values kept.

Names in a form are paths: ``installment.months``, ``lines.0.unit_price``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import msgspec
from msgspec import inspect as mi

from application.handling import Command
from domain.base import DomainError
from interfaces.console.i18n import Language

Choices = Sequence[tuple[str, str]]


def N_(text: str) -> str:
    """Marks a text for the catalogue; translated where it is shown."""
    return text


# What a box with a pattern may hold, said when a value does not match it.
PATTERN_HINTS = {
    "phone": N_("A phone number has digits, spaces or '-' only (e.g. 138 0000 0000)."),
    "id_number": N_("An ID number has letters, digits, spaces or '-' only."),
    "code": N_("A code has letters, digits, spaces, '.', '_' or '-' only."),
    "serial_number": N_("A serial number has letters, digits, spaces, '.', '_' or '-' only."),
}
LONG_TEXT = {"reason", "note", "remarks", "address"}


@dataclass
class Field:
    name: str                      # the path in the form
    kind: str                      # text, textarea, number, decimal, date, checkbox, select
    label: str
    required: bool
    value: str = ""
    options: Choices = ()
    error: str | None = None
    hint: str | None = None
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    default: str = ""              # what the form shows before anyone types (a default quantity, 0.00)


@dataclass
class Group:
    """A nested part (``installment``) or the rows of a list (``lines``)."""

    name: str
    label: str
    rows: list[list[Field]]
    repeated: bool
    error: str | None = None


@dataclass
class Form:
    command: type[Command]
    action: str
    items: list[Field | Group]
    errors: list[tuple[str | None, str, str | None]] = field(default_factory=list)  # (field, message, detail)
    submit: str = ""
    form_key: str = ""
    status: int = 200               # of the page showing it: 422 or 409 once refused
    version: int | None = None      # of the document it was rendered from (a conflict check)

    def fields(self) -> Iterable[Field]:
        for item in self.items:
            if isinstance(item, Field):
                yield item
            else:
                for row in item.rows:
                    yield from row

    def find(self, name: str | None) -> Field | Group | None:
        if not name:
            return None
        for f in self.fields():
            if f.name == name:
                return f
        for item in self.items:
            if isinstance(item, Group) and (item.name == name or name.startswith(item.name + ".")):
                # "lines.0.model_id" without such a field, or "lines": the group.
                row = _row_of(name)
                if row is not None and row < len(item.rows):
                    leaf = name.rsplit(".", 1)[-1]
                    for f in item.rows[row]:
                        if f.name.endswith("." + leaf):
                            return f
                return item
        # "quantity" of a list row when the domain names only the leaf: the first such field.
        return next((f for f in self.fields() if f.name.rsplit(".", 1)[-1] == name), None)


def _row_of(name: str) -> int | None:
    parts = name.split(".")
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None


# ---------------------------------------------------------------- building a form
def _unwrap(t: Any) -> tuple[Any, bool]:
    """The field's type without Meta, and whether None is allowed."""
    optional = False
    while True:
        if isinstance(t, mi.Metadata):
            t = t.type
        elif isinstance(t, mi.UnionType):
            kinds = [k for k in t.types if not isinstance(k, mi.NoneType)]
            optional = optional or len(kinds) < len(t.types)
            t = kinds[0]
        else:
            return t, optional


def _shown(value: Any) -> str:
    if value is None or value is msgspec.NODEFAULT:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


def _field(lang: Language, path: str, name: str, t: Any, required: bool, default: Any,
           choices: Mapping[str, Choices]) -> Field:
    t, optional = _unwrap(t)
    label = lang.pgettext("field", name)
    f = Field(path, "text", label, required and not optional, _shown(default), default=_shown(default))
    if name in choices:
        f.kind, f.options = "select", choices[name]
    elif isinstance(t, mi.EnumType):
        f.kind = "select"
        f.options = [(str(m.value), lang.pgettext(t.cls.__name__, str(m.value))) for m in t.cls]
    elif isinstance(t, mi.LiteralType):
        f.kind = "select"
        f.options = [(str(v), lang.pgettext(name, str(v))) for v in t.values]
    elif isinstance(t, mi.BoolType):
        f.kind = "checkbox"
    elif isinstance(t, mi.IntType):
        f.kind, f.min, f.max = "number", t.ge, t.le
    elif isinstance(t, mi.DecimalType):
        f.kind = "decimal"
    elif isinstance(t, mi.DateType):
        f.kind = "date"
    elif isinstance(t, mi.StrType):
        f.kind = "password" if "password" in name else "textarea" if name in LONG_TEXT else "text"
        f.max_length = t.max_length
    return f


def build(lang: Language, command: type[Command], action: str, *, omit: Iterable[str] = (),
          choices: Mapping[str, Choices] | None = None, rows: Mapping[str, int] | None = None,
          values: Mapping[str, Any] | None = None, submit: str | None = None) -> Form:
    """The form of ``command`` (less the ``omit`` fields, which the page's URL gives), with
    ``rows`` empty rows for each list field, prefilled from ``values`` (form paths)."""
    choices, rows, omitted = choices or {}, rows or {}, set(omit)
    items: list[Field | Group] = []
    for f in mi.type_info(command).fields:  # type: ignore[attr-defined]
        if f.name in omitted:
            continue
        t, _ = _unwrap(f.type)
        if isinstance(t, mi.ListType) and isinstance(t.item_type, mi.StructType):
            count = rows.get(f.name, 1)
            group = Group(f.name, lang.pgettext("field", f.name), [
                [_field(lang, f"{f.name}.{i}.{s.name}", s.name, s.type, s.required, s.default, choices)
                 for s in t.item_type.fields] for i in range(count)], repeated=True)
            for row in group.rows:       # a row of a table holds one line of text per box
                for cell in row:
                    cell.kind = "text" if cell.kind == "textarea" else cell.kind
            items.append(group)
        elif isinstance(t, mi.StructType):
            items.append(Group(f.name, lang.pgettext("field", f.name), [
                [_field(lang, f"{f.name}.{s.name}", s.name, s.type, s.required and f.required, s.default, choices)
                 for s in t.fields]], repeated=False))
        else:
            items.append(_field(lang, f.name, f.name, f.type, f.required, f.default, choices))
    form = Form(command, action, items, submit=submit or lang.pgettext("command", command.__name__))
    if values:
        fill(form, values)
    return form


def fill(form: Form, values: Mapping[str, Any]) -> None:
    for f in form.fields():
        if f.name in values and f.kind != "password":   # a password is never sent back
            v = values[f.name]
            f.value = _shown(v[0] if isinstance(v, list) and v else v)


# ---------------------------------------------------------------- reading a posted form
def nested(form: Form, posted: Mapping[str, Any]) -> dict[str, Any]:
    """The posted values as the command's JSON shape: paths become objects and lists,
    empty boxes are left out (so a default applies, or the field is reported missing),
    a ticked checkbox is true; a nested part left wholly empty is absent."""
    out: dict[str, Any] = {}
    for f in form.fields():
        raw = posted.get(f.name)
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        if f.kind == "checkbox":
            value: Any = raw in ("on", "true", "1") if raw is not None else None
            if value is None:
                continue
        else:
            value = (raw or "").strip()
            if value == "":
                continue
        _put(out, f.name.split("."), value)
    for item in form.items:
        if not isinstance(item, Group) or item.name not in out:
            continue
        if item.repeated:   # a row counts once a box without a default is filled in
            out[item.name] = [row for _, row in sorted(out[item.name].items()) if _filled(row, item)]
        elif not _filled(out[item.name], item):
            del out[item.name]
    return out


def _filled(values: dict[str, Any], group: Group) -> bool:
    """Whether a person filled in a box of the row (or part) that the form does not fill itself."""
    leaf = {f.name.rsplit(".", 1)[-1]: f for f in group.rows[0]}
    return any(name in values and (f.default == "" and f.kind != "checkbox") for name, f in leaf.items())


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    head, *rest = path
    if not rest:
        target[head] = value
        return
    if rest[0].isdigit():
        rows = target.setdefault(head, {})
        row = rows.setdefault(int(rest[0]), {})
        if len(rest) > 1:
            _put(row, rest[1:], value)
        return
    _put(target.setdefault(head, {}), rest, value)


class FormRefused(Exception):
    """The posted values do not make the command."""

    def __init__(self, field: str | None, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.field, self.message, self.detail = field, message, detail


_AT = re.compile(r" - at `\$\.?(.*)`$")
_MISSING = re.compile(r"missing required field `(\w+)`")


def command_of(lang: Language, form: Form, posted: Mapping[str, Any], given: Mapping[str, Any]) -> Command:
    """The command the posted form (and the page's own ``given`` values) makes."""
    data = nested(form, posted) | dict(given)
    try:
        return msgspec.convert(data, form.command, strict=False)
    except msgspec.ValidationError as error:
        text = str(error)
        at = _AT.search(text)
        path = re.sub(r"\[(\d+)\]", r".\1", at.group(1)) if at else ""
        missing = _MISSING.search(text)
        if missing:
            path = f"{path}.{missing.group(1)}" if path else missing.group(1)
        raise FormRefused(path or None, _plain_message(lang, form, text, path, bool(missing)), text) from None


def _plain_message(lang: Language, form: Form, text: str, path: str, missing: bool) -> str:
    f = form.find(path)
    if missing:
        return lang.gettext("Fill this in.")
    if isinstance(f, Field):
        if f.kind == "number":
            if f.min is not None and f.max is not None:
                return lang.gettext("Enter a whole number from %(min)s to %(max)s.", min=f.min, max=f.max)
            return lang.gettext("Enter a whole number.")
        if f.kind == "decimal":
            return lang.gettext("Enter an amount such as 380000.00.")
        if f.kind == "date":
            return lang.gettext("Enter a date such as 2026-12-06.")
        if f.kind == "select":
            return lang.gettext("Choose one of the options.")
        if "length" in text and f.max_length:
            return lang.gettext("At most %(n)s characters.", n=f.max_length)
    if "length" in text:
        return lang.gettext("Too long or too short.")
    if "pattern" in text or "regex" in text:
        hint = PATTERN_HINTS.get(path.rsplit(".", 1)[-1])
        return lang.gettext(hint or "Use letters, digits and plain punctuation only.")
    return lang.gettext("This value is not accepted.")


def refused(lang: Language, form: Form, error: DomainError | FormRefused) -> None:
    """Puts a refusal beside its field (and in the summary at the top)."""
    if isinstance(error, FormRefused):
        name, message, detail = error.field, error.message, None
    else:
        name = error.details.get("field")
        message = error_message(lang, error)
        detail = error.message if message != error.message else None
    target = form.find(str(name) if name else None)
    summary = message
    if isinstance(target, (Field, Group)):
        target.error = message
        summary = f"{target.label}{'：' if lang.code == 'zh_CN' else ': '}{message}"
    form.errors.append((target.name if target else None, summary, detail))


def error_message(lang: Language, error: DomainError) -> str:
    """A refusal in the person's language: the catalogue's sentence for its code, else the
    rule's own sentence (English)."""
    if lang.code != "en" and lang.has("error", error.code):
        return lang.pgettext("error", error.code)
    return error.message
