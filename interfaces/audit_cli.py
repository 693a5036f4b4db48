"""``ironledger audit …``: what an auditor runs on the server or against a copy of the database.

Exit codes a script can trust: 0 all is well, 1 the check found a problem (chain broken,
read model differing), 2 the question could not be answered (unknown object, bad argument).
Everything runs as the system (the whole group): whoever can run this can read the database.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from typing import Any

from application.audit import KINDS

OK, PROBLEM, UNANSWERED = 0, 1, 2


def add_commands(commands: Any, backoffice_factory: Any) -> None:
    audit = commands.add_parser("audit", help="history, state as of, command trails, chain and read-model checks",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = audit.add_subparsers(dest="audit_command", required=True)

    def command(name: str, run: Any, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(run=lambda args: sys.exit(run(args, backoffice_factory())))
        p.add_argument("--json", action="store_true", help="print JSON instead of text")
        return p

    p = command("history", history, "every event of one object, in order")
    p.add_argument("kind", choices=list(KINDS))
    p.add_argument("key", help="its id; a machine's serial; a coupon's code; a contract's id for its receivable")

    p = command("as-of", as_of, "one object as it was at a time or a version")
    p.add_argument("kind", choices=list(KINDS))
    p.add_argument("key")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--at", type=datetime.fromisoformat, help="a time with its zone, 2026-03-01T18:00:00+08:00")
    group.add_argument("--version", type=int)

    p = command("trail", trail, "every event one command recorded (an un-approval and all it undid)")
    p.add_argument("command_id")

    p = command("rollbacks", rollbacks, "un-approvals and swaps of a period, with who, why and their trails")
    p.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True)
    p.add_argument("--to", dest="date_to", type=date.fromisoformat, required=True)

    p = command("verify-chain", verify_chain_command,
                "recompute the hash chain from the raw stored events; exit 1 at the first break")
    p.add_argument("--expect-head", help="a head link written down earlier (audit chain-head)")

    command("chain-head", chain_head_command, "the last sealed event and its link, to write down elsewhere")

    p = command("verify-views", verify_views_command,
                "rebuild every read model into a shadow and compare with the live tables; exit 1 on a difference")
    p.add_argument("names", nargs="*", help="read models to check (default: all)")


def _print(args: argparse.Namespace, value: Any, text: str) -> None:
    print(json.dumps(value, default=str, ensure_ascii=False, indent=2) if args.json else text)


def _answer(run: Any) -> Any:
    from domain.base import DomainError
    try:
        return run()
    except DomainError as error:
        print(f"{error.code}: {error.message}", file=sys.stderr)
        return None


def history(args: argparse.Namespace, backoffice: Any) -> int:
    from application.caller import SYSTEM
    try:
        found = _answer(lambda: backoffice.audit.history_of(SYSTEM, args.kind, args.key))
        if found is None:
            return UNANSWERED
        lines = [f"{args.kind} {args.key} ({found['aggregate_id']}), {len(found['events'])} event(s)"]
        for e in found["events"]:
            why = f" — {e['reason']}" if e["reason"] else ""
            lines.append(f"v{e['version']:<4} {e['business_date']} {e['recorded_at']:%Y-%m-%d %H:%M:%S} "
                         f"{e['event']:<34} by {e['actor']}{why}")
            lines.extend(f"        {k}: {v}" for k, v in e["data"].items())
        _print(args, found, "\n".join(lines))
        return OK
    finally:
        backoffice.stop()


def as_of(args: argparse.Namespace, backoffice: Any) -> int:
    from application.caller import SYSTEM
    try:
        found = _answer(lambda: backoffice.audit.state_as_of(SYSTEM, args.kind, args.key, args.at, args.version))
        if found is None:
            return UNANSWERED
        lines = [f"{args.kind} {args.key} at version {found['version']} of {found['latest_version']} "
                 f"(after {found['as_of_event']}, recorded {found['recorded_at']}, business date "
                 f"{found['business_date']})"]
        lines.extend(f"  {k}: {json.dumps(v, default=str, ensure_ascii=False)}" for k, v in found["state"].items())
        _print(args, found, "\n".join(lines))
        return OK
    finally:
        backoffice.stop()


def trail(args: argparse.Namespace, backoffice: Any) -> int:
    from uuid import UUID

    from application.caller import SYSTEM
    from projections import audit
    try:
        try:
            command_id = UUID(args.command_id)
        except ValueError:
            print(f"{args.command_id} is not a command id (a UUID).", file=sys.stderr)
            return UNANSWERED
        backoffice.catch_up()
        with backoffice.read() as cur:
            events = audit.command_trail(cur, SYSTEM.scope, command_id)
        if not events:
            print(f"No event was recorded under command {command_id}.", file=sys.stderr)
            return UNANSWERED
        lines = [f"command {command_id}: {len(events)} event(s)"]
        lines.extend(f"{e['recorded_at']} {e['event']:<34} {e['aggregate_id']} v{e['version']} by {e['actor']}"
                     f"{' — ' + e['reason'] if e['reason'] else ''}\n        {e['summary']}" for e in events)
        _print(args, events, "\n".join(lines))
        return OK
    finally:
        backoffice.stop()


def rollbacks(args: argparse.Namespace, backoffice: Any) -> int:
    from application.caller import SYSTEM
    from projections import audit
    try:
        if args.date_from > args.date_to:
            print("--from is after --to.", file=sys.stderr)
            return UNANSWERED
        backoffice.catch_up()
        rows: list[dict[str, Any]] = []
        page = 1
        with backoffice.read() as cur:
            while True:
                items, total = audit.rollbacks_and_swaps(cur, SYSTEM.scope, args.date_from, args.date_to, page, 500)
                rows.extend(items)
                if len(rows) >= total or not items:
                    break
                page += 1
        lines = [f"{len(rows)} un-approval(s) and swap(s) from {args.date_from} to {args.date_to}"]
        lines.extend(f"{r['business_date']} {r['event']:<24} contract {r['contract_id']} by {r['actor']}: "
                     f"{r['reason']} ({r['downstream_events']} fact(s) downstream; trail: audit trail "
                     f"{r['command_id']})" for r in rows)
        _print(args, rows, "\n".join(lines))
        return OK
    finally:
        backoffice.stop()


def verify_chain_command(args: argparse.Namespace, backoffice: Any) -> int:
    from tqdm import tqdm

    from interfaces.persistence.verify import verify_chain
    try:
        backoffice.projections["event_chain"].catch_up()
        total = backoffice.ledger.recorder.max_notification_id() or 0
        with tqdm(total=total, desc="event chain", unit="event", file=sys.stderr) as bar:
            report = verify_chain(backoffice.ledger.recorder, backoffice.views, args.expect_head, bar.update,
                                  sealed_through=backoffice.projections["event_chain"].position())
        value = {"intact": report.intact, "checked": report.checked, "unsealed": report.unsealed,
                 "head": report.head, "problem": report.problem, "problem_at": report.problem_at}
        if report.intact:
            text = (f"chain intact: {report.checked} event(s) checked"
                    + (f", head #{report.head[0]} {report.head[1]}" if report.head else "")
                    + (f"; {report.unsealed} not sealed yet" if report.unsealed else ""))
        else:
            text = f"CHAIN BROKEN after {report.checked} good event(s): {report.problem}"
        _print(args, value, text)
        return OK if report.intact else PROBLEM
    finally:
        backoffice.stop()


def chain_head_command(args: argparse.Namespace, backoffice: Any) -> int:
    from interfaces.persistence.verify import chain_head
    try:
        backoffice.projections["event_chain"].catch_up()
        head = chain_head(backoffice.views)
        if head is None:
            print("Nothing is sealed yet.", file=sys.stderr)
            return UNANSWERED
        _print(args, {"notification_id": head[0], "link": head[1]}, f"#{head[0]} {head[1]}")
        return OK
    finally:
        backoffice.stop()


def verify_views_command(args: argparse.Namespace, backoffice: Any) -> int:
    from tqdm import tqdm

    from interfaces.persistence.verify import shadow_views, verify_views
    try:
        unknown = [n for n in args.names if n not in backoffice.projections]
        if unknown:
            print(f"Unknown read model(s) {', '.join(unknown)}; known: {', '.join(backoffice.projections)}",
                  file=sys.stderr)
            return UNANSWERED
        backoffice.catch_up()
        runners = {n: r for n, r in backoffice.projections.items() if not args.names or n in args.names}
        bars: dict[str, Any] = {}

        def progress(name: str, done: int, total: int) -> None:
            bar = bars.get(name)
            if bar is None:
                bar = bars[name] = tqdm(total=total, desc=name, unit="event", file=sys.stderr)
            bar.update(done - bar.n)

        with shadow_views(backoffice.views, backoffice.settings.database_url) as shadow:
            reports = verify_views(backoffice.views, runners, shadow, progress)
        for bar in bars.values():
            bar.close()
        lines, value = [], []
        for report in reports:
            status = "identical" if report.identical else "DIFFERENT"
            lines.append(f"{report.name} (position {report.position}): {status}")
            for table in report.tables:
                lines.append(f"  {table.table}: {table.live_rows} live row(s), {table.rebuilt_rows} rebuilt, "
                             f"{table.differing} differing")
                for live_row, rebuilt_row in table.differences:
                    lines.append(f"    live:    {live_row}")
                    lines.append(f"    rebuilt: {rebuilt_row}")
            value.append({"name": report.name, "position": report.position, "identical": report.identical,
                          "tables": [{"table": t.table, "live_rows": t.live_rows, "rebuilt_rows": t.rebuilt_rows,
                                      "differing": t.differing, "differences": t.differences}
                                     for t in report.tables]})
        _print(args, value, "\n".join(lines))
        return OK if all(r.identical for r in reports) else PROBLEM
    finally:
        backoffice.stop()
