"""The console speaks Chinese everywhere: every text of its templates and code, every word it
shows for a status or kind, every form it renders (labels of the command's fields, its button
and its confirmation) has a zh_CN translation; English has the words that are not its source."""

from __future__ import annotations

import enum
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from msgspec import inspect as mi

import domain
from application.handling import Command
from interfaces.console import pages
from interfaces.console.i18n import Language, translations

CONSOLE = Path(pages.__file__).parents[1]
ZH, EN = Language("zh_CN"), Language("en")


def _texts() -> list[str]:
    with (CONSOLE / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = []
    for _, _, message, _, _ in extract_from_dir(str(CONSOLE), method_map, options_map):
        found.append(message[0] if isinstance(message, tuple) else message)
    return sorted(set(found))


def _domain_enums() -> dict[str, type[enum.Enum]]:
    found: dict[str, type[enum.Enum]] = {}
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__.startswith("domain"):
                found[value.__name__] = value
    return found


def _rendered_commands() -> set[type[Command]]:
    """The command types the console's pages make forms of."""
    names = set()
    for path in (CONSOLE / "pages").glob("*.py"):
        source = path.read_text()
        names |= set(re.findall(r"console\.form\(request, (\w+)", source))
        names |= set(re.findall(r'"[a-z-]+": (\w+)', source))
    found: dict[str, type[Command]] = {}

    def walk(kind: type[Command]) -> None:
        for sub in kind.__subclasses__():
            found[sub.__name__] = sub
            walk(sub)
    walk(Command)
    return {found[n] for n in names if n in found}


def test_every_text_of_the_console_has_its_chinese():
    texts = _texts()
    assert len(texts) > 100
    missing = [t for t in texts if translations("zh_CN").gettext(t) == t]
    assert not missing, missing


def test_every_status_and_kind_the_pages_show_has_its_words():
    enums = _domain_enums()
    used = set()
    for template in (CONSOLE / "templates").glob("*.html"):
        used |= set(re.findall(r'word\("(\w+)"', template.read_text()))
    known = used & set(enums)
    assert {"ContractStatus", "PaymentMethod", "DocumentType"} <= known
    missing = [(name, str(member.value)) for name in sorted(known) for member in enums[name]
               if not ZH.has(name, str(member.value)) or EN.pgettext(name, str(member.value)) == str(member.value)]
    assert not missing, missing


def _fields(kind: object) -> set[str]:
    names: set[str] = set()
    if isinstance(kind, mi.Metadata):
        return _fields(kind.type)
    if isinstance(kind, mi.UnionType):
        return set().union(*(_fields(t) for t in kind.types))
    if isinstance(kind, mi.ListType):
        return _fields(kind.item_type)
    if isinstance(kind, mi.StructType):
        for f in kind.fields:
            names |= {f.name} | _fields(f.type)
    return names


@pytest.mark.parametrize("command", sorted(_rendered_commands(), key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_every_form_has_its_labels_button_and_confirmation(command):
    missing = [f for f in sorted(_fields(mi.type_info(command))) for lang in (ZH, EN)
               if lang.pgettext("field", f) == f]
    missing += [(context, command.__name__) for context in ("command", "done") for lang in (ZH, EN)
                if lang.pgettext(context, command.__name__) == command.__name__]
    assert not missing, missing
