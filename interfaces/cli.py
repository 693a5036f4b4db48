"""The ``ironledger`` command."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from interfaces.settings import Settings


def _backoffice():  # imported late so that `ironledger openapi` touches no database
    from interfaces.composition import BackOffice
    return BackOffice(Settings())


def _announce_admin(generated: str | None) -> None:
    if generated:
        print("=" * 72)
        print("First start: administrator created.")
        print("  user name: admin")
        print(f"  password:  {generated}")
        print("This password is shown once. Set IRONLEDGER_ADMIN_PASSWORD to choose it yourself.")
        print("=" * 72, flush=True)


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from interfaces.http.app import create_app

    backoffice = _backoffice()
    _announce_admin(backoffice.access.ensure_administrator(backoffice.settings.admin_password))
    app = create_app(backoffice, run_projections=not args.no_projections)
    print(f"ironledger console on http://{args.host}:{args.port}/  (API docs: http://{args.host}:{args.port}/docs)",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)


def worker(_: argparse.Namespace) -> None:
    backoffice = _backoffice()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    from application.caller import SYSTEM

    backoffice.workers.start_projections()
    backoffice.workers.start_penalty_schedule(SYSTEM)
    print(f"projection worker running: {', '.join(backoffice.projections)}; penalty accrual daily at "
          f"{backoffice.settings.penalty_run_hour:02d}:00", flush=True)
    stop.wait()
    backoffice.stop()


def rebuild(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    backoffice = _backoffice()
    rebuildable = [n for n, r in backoffice.projections.items() if getattr(r.projection, "rebuildable", True)]
    names = rebuildable if args.all else [args.name]
    unknown = [n for n in names if n not in rebuildable]
    if not names or unknown:
        sys.exit(f"Unknown read model {unknown or names}; known: {', '.join(rebuildable)} (the event chain is "
                 "never rebuilt: it seals the log as it was recorded)")
    total = backoffice.ledger.recorder.max_notification_id() or 0
    for name in names:
        runner = backoffice.projections[name]
        runner.reset()
        with tqdm(total=total, desc=name, unit="event") as bar:
            runner.catch_up(progress=bar.update)
    backoffice.stop()


def accrue_penalties(args: argparse.Namespace) -> None:
    from datetime import date, timedelta

    from application.caller import SYSTEM
    from domain.base import DomainError

    backoffice = _backoffice()
    try:
        through = date.fromisoformat(args.through) if args.through else backoffice.today() - timedelta(days=1)
    except ValueError:
        sys.exit(f"--through must be a date such as 2026-04-20, not {args.through!r}")
    try:
        result = backoffice.accrue_penalties(SYSTEM, through)
    except DomainError as error:
        sys.exit(f"refused: {error.message}")
    finally:
        backoffice.stop()
    print(f"penalty interest accrued through {through}: {result['debts_charged']} receivable(s) charged of "
          f"{result['debts_examined']} examined")


def demo(_: argparse.Namespace) -> None:
    from interfaces.demo import load_demo

    backoffice = _backoffice()
    _announce_admin(backoffice.access.ensure_administrator(backoffice.settings.admin_password))
    users = load_demo(backoffice)
    backoffice.catch_up()
    print("Demo data loaded: 3 companies, 5 warehouses, 3 machine models, 53 machines, 3 customers, "
          "5 contracts (two approved, one waiting for manager.zhao, one with the clerk, one draft). "
          "The approved one of today was delivered: SY215C-0007 picked, reviewed, dispatched, then swapped for "
          "SY215C-0011; its down payment waits for finance.sun to confirm (ListReceipts status=recorded). "
          "The one approved on 2025-12-15 is SCENARIO.md's penalty example, overdue since 2026-03-31 "
          "(GetReceivable, GetCustomerStatement, GetAgingReport); it is assigned to collector.zhang, and a lock "
          "of its machine SY215C-0021 waits for manager.zhao (ListMyApprovals). Coupons: PROMO-2026-001 "
          "(paid 1,000.00, worth 2,000.00) and GIFT-2026-001 (ListCoupons, GetCouponUsage).")
    print(f"{'user':<18}{'password':<18}positions / roles")
    for username, password, what in users:
        print(f"{username:<18}{password:<18}{what}")
    backoffice.stop()


def analyst_role(args: argparse.Namespace) -> None:
    import re

    import psycopg
    from psycopg import sql

    settings = Settings()
    if not settings.uses_postgres:
        sys.exit("Analysts query PostgreSQL; this installation keeps its data in SQLite files (read those with "
                 "any SQLite tool, or set IRONLEDGER_DATABASE_URL).")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.name):
        sys.exit("A login name is lower-case letters, digits and _, starting with a letter.")
    backoffice = _backoffice()     # makes sure every read table exists
    tables = sorted({t for runner in backoffice.projections.values() for t in runner.projection.tables}
                    | {"projection_positions"})
    backoffice.stop()
    name, schema = sql.Identifier(args.name), sql.Identifier(settings.database_schema)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (args.name,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
            name, sql.Literal(args.password)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(conn.info.dbname), name))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, name))
        conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, name))
        for table in tables:
            conn.execute(sql.SQL("GRANT SELECT ON {}.{} TO {}").format(schema, sql.Identifier(table), name))
        # Read tables dropped and made again by a rebuild (or a new read model) stay readable.
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
            schema, name))
        conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(name))
    print(f"{args.name}: may read {len(tables)} read table(s) in schema {settings.database_schema} "
          "(not the event store, not the users' password hashes); its sessions are read-only.")


def openapi(_: argparse.Namespace) -> None:
    from interfaces.http.app import create_app

    app = create_app(None, run_projections=False)  # type: ignore[arg-type]
    print(json.dumps(app.openapi_schema.to_schema(), indent=2, ensure_ascii=False, default=str))


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="ironledger", description="Back office for machinery dealers.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run the HTTP API with the read models")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-projections", action="store_true",
                   help="API only; read models are kept by `ironledger worker` (several API processes)")
    p.add_argument("--log-level", default="info")
    p.set_defaults(run=serve)

    p = commands.add_parser("worker", help="keep the read models up to date, without the API")
    p.set_defaults(run=worker)

    p = commands.add_parser("rebuild", help="drop a read model and rebuild it from the event log")
    p.add_argument("name", nargs="?")
    p.add_argument("--all", action="store_true")
    p.set_defaults(run=rebuild)

    p = commands.add_parser("accrue-penalties",
                            help="accrue penalty interest (罚息) of overdue receivables up to a day (default yesterday);"
                                 " running it twice for a day changes nothing")
    p.add_argument("--through", help="last day to accrue, YYYY-MM-DD (default: yesterday, dealer's time)")
    p.set_defaults(run=accrue_penalties)

    p = commands.add_parser("demo", help="load the demo group and print its users")
    p.set_defaults(run=demo)

    p = commands.add_parser("openapi", help="print the OpenAPI document")
    p.set_defaults(run=openapi)

    from interfaces.audit_cli import add_commands as add_audit_commands
    add_audit_commands(commands, _backoffice)

    p = commands.add_parser("analyst-role", help="create (or reset) a read-only PostgreSQL login for analysts: "
                                                 "it may SELECT the read tables, nothing else")
    p.add_argument("name", help="the login, e.g. analyst")
    p.add_argument("--password", required=True)
    p.set_defaults(run=analyst_role)

    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
