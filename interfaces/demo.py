"""Demo data: the group of SCENARIO.md (Hefei, Chuzhou, Chizhou), its warehouses,
models, about fifty machines and users with different scopes. Loading it twice
changes nothing (every command carries a fixed idempotency key)."""

from __future__ import annotations

from uuid import UUID

from application.caller import SYSTEM
from domain import ids
from domain.access import Role
from domain.machines import MachineNature
from domain.organisation import MachineType, WarehouseKind
from interfaces.composition import BackOffice

COMPANIES = [("HF", "Hefei (headquarters)"), ("CZ", "Chuzhou"), ("CHZ", "Chizhou")]
MODELS = [("SY215C", "SY215C excavator", MachineType.EXCAVATOR),
          ("XE60", "XE60 mini excavator", MachineType.EXCAVATOR),
          ("LG855", "LG855 loader", MachineType.LOADER)]
NATURES = [MachineNature.PURCHASED_SAMPLE] * 6 + [MachineNature.TRADE_IN, MachineNature.SALES_RETURN,
                                                   MachineNature.LEASE_RETURN, MachineNature.REPOSSESSED]
DEMO_PASSWORD = "demo-pass-2026"

# username, display name, roles, positions
USERS = [
    ("risk.manager", "Group risk manager (Chuzhou + Chizhou)", [Role.APPROVER, Role.FINANCE], ["Risk Chuzhou+Chizhou"]),
    ("sales.wang", "Wang, salesperson Hefei", [Role.SALESPERSON], ["Hefei"]),
    ("sales.li", "Li, salesperson Hefei", [Role.SALESPERSON], ["Hefei"]),
    ("clerk.chen", "Chen, sales clerk Hefei", [Role.SALES_CLERK], ["Hefei"]),
    ("manager.zhao", "Zhao, sales manager Hefei", [Role.APPROVER], ["Hefei"]),
    ("finance.sun", "Sun, finance", [Role.FINANCE], ["Whole group"]),
    ("keeper.hf", "Warehouse keeper Hefei", [Role.WAREHOUSE_KEEPER], ["Hefei"]),
    ("keeper.cz", "Warehouse keeper Chuzhou", [Role.WAREHOUSE_KEEPER], ["Chuzhou"]),
    ("collector.zhang", "Zhang, collector", [Role.COLLECTOR], ["Whole group"]),
    ("tech.zhou", "Technician Zhou", [Role.TECHNICIAN], ["Hefei"]),
    ("auditor", "Auditor", [Role.AUDITOR], ["Whole group"]),
]


def load_demo(backoffice: BackOffice) -> list[tuple[str, str, str]]:
    """Loads the demo group; returns (username, password, what they may see)."""
    org, access, stock = backoffice.organisation, backoffice.access, backoffice.stock
    backoffice.access.ensure_administrator(backoffice.settings.admin_password)
    company: dict[str, UUID] = {}
    for code, name in COMPANIES:
        company[code] = ids.company_id(code)
        org.create_company(SYSTEM, code, name, idempotency_key=f"demo:company:{code}")
    main: dict[str, UUID] = {}
    for code, _ in COMPANIES:
        main[code] = ids.warehouse_id(company[code], "MAIN")
        org.create_warehouse(SYSTEM, company[code], "MAIN", f"{code} main warehouse", WarehouseKind.MAIN,
                             idempotency_key=f"demo:warehouse:{code}:MAIN")
    org.create_warehouse(SYSTEM, company["HF"], "PARTS", "Hefei parts warehouse", WarehouseKind.PARTS,
                         idempotency_key="demo:warehouse:HF:PARTS")
    org.create_warehouse(SYSTEM, company["HF"], "ZHOU", "Technician Zhou's mobile warehouse", WarehouseKind.MOBILE,
                         technician_name="Zhou", idempotency_key="demo:warehouse:HF:ZHOU")
    for code, name, machine_type in MODELS:
        org.register_machine_model(SYSTEM, code, name, machine_type, idempotency_key=f"demo:model:{code}")

    positions = {"Hefei": [company["HF"]], "Chuzhou": [company["CZ"]],
                 "Risk Chuzhou+Chizhou": [company["CZ"], company["CHZ"]]}
    for name, companies in positions.items():
        access.create_position(SYSTEM, name, companies, all_companies=False, idempotency_key=f"demo:position:{name}")

    for n in range(1, 51):
        company_code = ("HF", "HF", "CZ", "CHZ")[n % 4]
        model_code = MODELS[n % 3][0]
        stock.receive_machine(SYSTEM, f"{model_code}-{2026_000 + n}", ids.machine_model_id(model_code),
                              main[company_code], NATURES[n % len(NATURES)], idempotency_key=f"demo:machine:{n}")

    shown = []
    for username, display_name, roles, position_names in USERS:
        access.create_user(SYSTEM, username, display_name, DEMO_PASSWORD, roles=roles,
                           position_ids=[ids.position_id(p) for p in position_names],
                           idempotency_key=f"demo:user:{username}")
        shown.append((username, DEMO_PASSWORD, ", ".join(position_names) + " / " + ", ".join(roles)))
    return shown
