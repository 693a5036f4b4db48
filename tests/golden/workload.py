"""The golden workload: the demo, then a day-by-day mixed workload driven over HTTP.

``load_demo`` is the one Python entry point; everything after it goes through the HTTP
contract only (paths, JSON bodies, ``Idempotency-Key``), in process: Litestar's
``TestClient`` on ``create_app(backoffice, run_projections=False)``, signed in as the demo's
users. The product's Python services are never called, so the workload survives their
refactoring; what it pins down is what users can see.

Ids, timestamps and password salts are made deterministic by ``tests.golden.determinism``;
the business date is the workload's own calendar (``BackOffice(today=...)``); the token
secret and the administrator's password are fixed here (``golden_settings``). Together they
make a second run of the same workload record byte-identical events.

The ids of the demo's reference data (companies, warehouses, models, users, ...) are written
down below: they are facts of the stored events, never to change. Ids the demo draws at
random (its contracts, applications, parts documents) are looked up over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from interfaces.composition import BackOffice
from interfaces.demo import DEMO_PASSWORD, load_demo
from interfaces.settings import Settings
from tests.golden.determinism import Determinism, deterministic

D0 = date(2026, 5, 11)          # the demo's day, and the first day of the HTTP workload
D1 = date(2026, 7, 6)           # eight weeks on: June instalments and the May cash sale overdue
D2 = D1 + timedelta(days=1)
MONTH_ENDS = (date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31))

GOLDEN_ADMIN_PASSWORD = "golden-admin-pass-2026"
GOLDEN_SECRET_KEY = "golden-secret-" + "g" * 40
WU_PASSWORD, WU_NEW_PASSWORD = "golden-pass-2026", "golden-pass-2027"

# The demo's reference data (uuid5 of its codes): facts of the stored events.
HF, CZ, CHZ = "8abe84de-6619-59ea-aa55-bab66c22258b", "48470020-691e-58d6-86b4-c74ab9d738bc", \
    "2ecac12a-58ac-53ac-841c-5c3a5c06f92f"
HF_MAIN, HF_PARTS = "41d1f0ad-f727-50ae-9533-8309b91c10ee", "f3561285-5362-52d0-878a-cc12debb60db"
ZHOU_VAN, CZ_MAIN = "a17e2e75-dc0c-5e49-9781-ff431e051273", "99850c6b-2fea-564a-aab2-c2302f3120ab"
SY215C, XE60, LG855 = "f8d929cc-256d-5586-ae84-4cf4998d70f0", "5cd8a7a0-4553-50af-8317-c1c8dcb8c411", \
    "8501e982-0b38-530e-a2b9-424166b78839"
FORMAL, INTENDED, POTENTIAL = "c52efea9-bb17-56ac-9d30-8cc7b854fbd6", "047431fe-c3fe-5fc2-8d07-04d03dc15443", \
    "61720272-945c-5297-91cc-fffbb3d37ce6"
VIP = "513fcd06-55d3-5c94-a8db-457cf69f1c47"
HEFEI_POSITION = "86ea5b29-4585-5ec9-8cc9-fc2b332e911c"
WANG, ZHAO, ZHANG = "b2f39781-df61-5f59-9f6d-9e62251615f5", "e82a5568-cc59-5ebe-9e73-c83e4fe2536c", \
    "ad6be317-2932-5597-82d8-f8dd82335953"
OF_215C, BT_215C, SK_BOOM = "15e9de4f-de86-55ae-8275-2e6fceebe926", "97979a65-f81a-5e32-96d4-774c4801bec1", \
    "35c13f31-5da9-5f56-8e14-6e3516e762a7"


def golden_settings(base: Settings) -> Settings:
    """The store of ``base`` with the workload's fixed secrets (the token key enters stored
    idempotency fingerprints of commands carrying a password)."""
    return base.model_copy(update={"admin_password": GOLDEN_ADMIN_PASSWORD, "secret_key": GOLDEN_SECRET_KEY})


class BusinessDay:
    """The dealer's business date, moved on by the workload."""

    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


@dataclass
class Answer:
    """One request of the workload and what the API answered: user-visible, compared too."""

    n: int
    user: str
    method: str
    path: str
    key: str | None
    status: int
    replayed: bool
    body: Any

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "user": self.user, "method": self.method, "path": self.path, "key": self.key,
                "status": self.status, "replayed": self.replayed, "body": self.body}


AUTO = "auto"


class Http:
    """Requests as the demo's users, each one a new determinism epoch, every answer kept."""

    def __init__(self, client: Any, determinism: Determinism) -> None:
        self.client = client
        self.determinism = determinism
        self.tokens: dict[str, str] = {}
        self.passwords: dict[str, str] = {"admin": GOLDEN_ADMIN_PASSWORD}
        self.answers: list[Answer] = []
        self.last: tuple[str, str, Any, str | None, int, dict[str, Any]] | None = None

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.determinism.new_epoch()
            answer = self.client.post("/auth/login", json={"username": username,
                                                           "password": self.passwords.get(username, DEMO_PASSWORD)})
            assert answer.status_code == 200, f"login {username}: {answer.status_code} {answer.text}"
            self.tokens[username] = answer.json()["access_token"]
            # The token itself (its expiry is the wall clock) is not kept; that it worked is.
            self.answers.append(Answer(len(self.answers), username, "POST", "/auth/login", None, 200, False,
                                       {"user_id": answer.json()["user_id"]}))
        return self.tokens[username]

    def _send(self, method: str, username: str, path: str, body: Any, key: str | None,
              params: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token(username)}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        self.determinism.new_epoch()
        if method == "GET":
            return self.client.get(path, params=params or {}, headers=headers)
        return self.client.post(path, json=body, headers=headers)

    def _keep(self, method: str, username: str, path: str, key: str | None, response: Any) -> Any:
        media = response.headers.get("content-type", "")
        body = response.json() if "json" in media else response.text
        replayed = response.headers.get("idempotent-replayed") == "true"
        self.answers.append(Answer(len(self.answers), username, method, path, key, response.status_code,
                                   replayed, body))
        return body

    def post(self, username: str, path: str, body: Any = None, status: int = 200, key: str | None = AUTO) -> Any:
        """A command that must answer ``status``. Keyed unless ``key=None`` (the key is derived
        from the request's number in the workload unless given)."""
        if key == AUTO:
            key = f"golden-{len(self.answers):04d}"
        response = self._send("POST", username, path, body, key)
        answer = self._keep("POST", username, path, key, response)
        if response.status_code != status:
            raise AssertionError(f"POST {path} as {username} (request #{len(self.answers) - 1}): expected {status}, "
                                 f"got {response.status_code}: {response.text[:800]}\nbody: {body}")
        self.last = ("POST", username, body, key, status, {"path": path, "answer": answer})
        return answer

    def retry(self) -> Any:
        """The last command sent again with its key: answered as the first time, recorded once."""
        assert self.last is not None and self.last[3] is not None
        _, username, body, key, status, was = self.last
        response = self._send("POST", username, was["path"], body, key)
        answer = self._keep("POST", username, was["path"], key, response)
        assert response.status_code == status, (response.status_code, response.text)
        assert response.headers.get("idempotent-replayed") == "true", response.headers
        assert answer == was["answer"], (answer, was["answer"])
        return answer

    def refused(self, username: str, path: str, body: Any, status: int, code: str, key: str | None = None) -> Any:
        """A command the business refuses (nothing is recorded)."""
        response = self._send("POST", username, path, body, key)
        answer = self._keep("POST", username, path, key, response)
        assert response.status_code == status and isinstance(answer, dict) and answer.get("code") == code, \
            f"POST {path} as {username}: expected {status} {code}, got {response.status_code}: {response.text[:800]}"
        return answer

    def get(self, username: str, path: str, **params: Any) -> Any:
        response = self._send("GET", username, path, None, None, params)
        answer = self._keep("GET", username, path, None, response)
        assert response.status_code == 200, f"GET {path} as {username}: {response.status_code} {response.text[:800]}"
        return answer

    def relogin(self, username: str, password: str) -> None:
        self.passwords[username] = password
        self.tokens.pop(username, None)


@dataclass
class Run:
    office: BackOffice
    determinism: Determinism
    answers: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def golden_run(settings: Settings) -> Iterator[Run]:
    """A back office on ``settings`` (a fresh store) that has run the whole golden workload,
    deterministically (the patches of ``determinism`` are undone before the block runs).
    The store stays open for the block and is closed afterwards."""
    from interfaces.http.app import create_app
    from litestar.testing import TestClient

    settings = golden_settings(settings)
    with deterministic() as determinism:
        calendar = BusinessDay(D0)
        office = BackOffice(settings, today=calendar)
        try:
            determinism.scan()            # modules the store's persistence module imported
            load_demo(office)
            app = create_app(office, run_projections=False)
            client = TestClient(app)      # no lifespan: nothing runs in the background
            determinism.scan()            # modules imported by the application since install
            http = Http(client, determinism)
            mixed_workload(http, office, calendar)
            late = determinism.leftovers()
            assert not late, ("modules imported during the workload hold the real uuid4 or event clock (import "
                              f"them before the workload starts, or scan again): {late}")
            run = Run(office, determinism, [a.as_json() for a in http.answers])
        except BaseException:
            office.stop()
            raise
    try:
        yield run
    finally:
        office.stop()


# ====================================================================== the workload
def at(day: date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+08:00"


def approve_all(http: Http, application: dict[str, Any], deciders: dict[str, str] | None = None) -> dict[str, Any]:
    """Every step of a collection application decided by the person whose step it is."""
    deciders = deciders or {"approver": "manager.zhao", "finance": "finance.sun"}
    while application["status"] == "in_approval":
        application = http.post(deciders[application["waiting_for"]["role"]],
                                f"/collection-applications/{application['application_id']}/decide",
                                {"decision": "approve"})
    assert application["status"] == "approved", application
    return application


def approve_contract(http: Http, contract_id: str, first: str = "manager.zhao") -> dict[str, Any]:
    done = http.post(first, f"/contracts/{contract_id}/approve")
    if done["waiting_for"] is not None:
        done = http.post("finance.sun", f"/contracts/{contract_id}/approve")
    assert done["status"] == "approved", done
    return done


def mixed_workload(http: Http, office: BackOffice, calendar: BusinessDay) -> None:
    d = D0.isoformat

    def demo_documents() -> dict[str, Any]:
        """What the demo drew at random, looked up through the API (read models caught up first)."""
        office.catch_up()
        contracts = {(c["customer_name"], c["status"], c["number"][:11]): c["contract_id"]
                     for c in http.get("admin", "/contracts", page_size=100)["items"]}
        return {"contracts": contracts,
                "applications": http.get("admin", "/collection-applications", page_size=100)["items"],
                "requests": http.get("admin", "/parts-requests", page_size=100)["items"],
                "outbounds": http.get("admin", "/parts-outbounds", page_size=100)["items"],
                "orders": http.get("admin", "/purchase-orders", page_size=100)["items"],
                "work_orders": http.get("admin", "/work-orders", page_size=100)["items"],
                "receipts": http.get("finance.sun", "/receipts", status="recorded", page_size=100)["items"]}

    demo = demo_documents()
    earthworks = "Hefei Earthworks Construction Co."
    scenario = demo["contracts"][(earthworks, "approved", "HF-20260511")]
    overdue_sale = demo["contracts"][(earthworks, "approved", "HF-20251215")]
    quarry = demo["contracts"][("Feidong Quarry", "in_approval", "HF-20260511")]
    farmer_with_clerk = demo["contracts"][("Zhang Wei (private buyer)", "with_clerk", "HF-20260511")]
    farmer_draft = demo["contracts"][("Zhang Wei (private buyer)", "draft", "HF-20260511")]
    [demo_lock] = [a["application_id"] for a in demo["applications"] if a["document_type"] == "machine_lock"]
    [teeth_request] = [r["document_id"] for r in demo["requests"] if r["status"] == "requested"]
    [emergency] = [r["document_id"] for r in demo["requests"] if r["status"] == "ordered"]
    [waiting_outbound] = [o["document_id"] for o in demo["outbounds"] if o["status"] == "waiting"]
    [partly_received] = [o["document_id"] for o in demo["orders"]
                         if o["status"] not in ("received",) and o.get("warehouse_code") == "PARTS"]
    [demo_work_order] = [w["document_id"] for w in demo["work_orders"]]
    [down_payment] = [r["receipt_id"] for r in demo["receipts"] if r["contract_id"] == scenario]

    # ------------------------------------------------------------ D0: organisation and access
    wh = http.post("admin", "/companies", {"code": "WH", "name": "Wuhu"}, 201)["company_id"]
    http.retry()
    http.refused("sales.wang", "/companies", {"code": "XX", "name": "Not theirs"}, 403, "forbidden")
    wh_main = http.post("admin", "/warehouses", {"company_id": wh, "code": "MAIN", "name": "Wuhu main warehouse",
                                                 "kind": "main"}, 201)["warehouse_id"]
    http.post("admin", "/warehouses", {"company_id": wh, "code": "PARTS", "name": "Wuhu parts warehouse",
                                       "kind": "parts"}, 201)
    zl50 = http.post("admin", "/machine-models", {"code": "ZL50", "name": "ZL50 wheel loader",
                                                  "machine_type": "loader"}, 201)["model_id"]
    wuhu = http.post("admin", "/positions", {"name": "Wuhu", "company_ids": [wh], "all_companies": False},
                     201)["position_id"]
    http.post("admin", f"/positions/{wuhu}/change-companies", {"company_ids": [wh, CHZ], "all_companies": False})
    wu = http.post("admin", "/users", {"username": "sales.wu", "display_name": "Wu, salesperson Wuhu",
                                       "password": WU_PASSWORD, "roles": ["salesperson"], "position_ids": [wuhu]},
                   201)["user_id"]
    http.retry()
    http.passwords["sales.wu"] = WU_PASSWORD
    for username, name, role in (("keeper.wh", "Warehouse keeper Wuhu", "warehouse_keeper"),
                                 ("manager.wh", "Qian, sales manager Wuhu", "approver")):
        http.post("admin", "/users", {"username": username, "display_name": name,
                                                      "password": DEMO_PASSWORD, "roles": [role],
                                                      "position_ids": [wuhu]}, 201)
    http.post("admin", f"/users/{wu}/grant-role", {"role": "sales_clerk"})
    http.post("admin", f"/users/{wu}/revoke-role", {"role": "sales_clerk"})
    http.post("admin", f"/users/{wu}/assign-position", {"position_id": HEFEI_POSITION})
    http.post("admin", f"/users/{wu}/unassign-position", {"position_id": HEFEI_POSITION})
    http.post("sales.wu", "/auth/change-password", {"current_password": WU_PASSWORD,
                                                    "new_password": WU_NEW_PASSWORD})
    http.relogin("sales.wu", WU_NEW_PASSWORD)
    http.post("admin", "/approvals/rules", {"document_type": "sales_contract", "company_id": wh, "bands": [
        {"from_amount": "0.00", "steps": [{"name": "Wuhu manager", "role": "approver"}]}]}, 201)
    http.post("admin", "/approvals/rules", {"document_type": "expense", "bands": [
        {"from_amount": "0.00", "steps": [{"name": "Sales manager", "role": "approver"}]},
        {"from_amount": "50000.00", "steps": [{"name": "Sales manager", "role": "approver"},
                                              {"name": "Group finance", "role": "finance", "scope": "group"}]}]},
              201)

    # ------------------------------------------------------------ D0: machines
    serials = {}
    for n in range(1, 7):
        serials[f"SY{n}"] = f"SY215C-G{n:03d}"
        http.post("keeper.hf", "/machines/receive", {"serial_number": serials[f"SY{n}"], "model_id": SY215C,
                                                     "warehouse_id": HF_MAIN, "nature": "purchased_sample"}, 201,
                  key=f"golden:receive:{serials[f'SY{n}']}")
    http.retry()
    http.refused("keeper.hf", "/machines/receive", {"serial_number": "SY215C-G099", "model_id": SY215C,
                                                    "warehouse_id": HF_MAIN, "nature": "purchased_sample"},
                 422, "idempotency-key-reused", key="golden:receive:SY215C-G006")
    for n in range(1, 6):
        serials[f"XE{n}"] = f"XE60-G{n:03d}"
        http.post("keeper.hf", "/machines/receive", {"serial_number": serials[f"XE{n}"], "model_id": XE60,
                                                     "warehouse_id": HF_MAIN,
                                                     "nature": "trade_in" if n == 5 else "purchased_sample"}, 201)
    for n in range(1, 3):
        http.post("keeper.wh", "/machines/receive", {"serial_number": f"ZL50-G{n:03d}", "model_id": zl50,
                                                     "warehouse_id": wh_main, "nature": "purchased_sample"}, 201)
    http.post("admin", f"/machines/{serials['SY6']}/transfer", {"to_warehouse_id": CZ_MAIN,
                                                               "reason": "Chuzhou needs a demonstration unit"})
    http.refused("keeper.hf", "/machines/receive", {"serial_number": serials["SY1"], "model_id": SY215C,
                                                    "warehouse_id": HF_MAIN, "nature": "purchased_sample"},
                 409, "serial-number-exists")

    # ------------------------------------------------------------ D0: customers
    http.post("admin", "/customer-catalogue/types", {"code": "FLEET", "name": "Fleet owner"}, 201)
    gold_tag = http.post("admin", "/customer-catalogue/tags", {"code": "GOLDEN", "name": "Golden test"},
                         201)["tag_id"]
    roadworks = http.post("sales.wang", "/customers", {
        "company_id": HF, "name": "Chaohu Roadworks Ltd", "kind": "organisation", "customer_type_id": FORMAL,
        "id_number": "91340100MA2RGOLD01", "phone": "0551 6600 0001", "address": "Chaohu, Hefei"},
        201)["customer_id"]
    http.retry()
    gravel = http.post("sales.wang", "/customers", {"company_id": HF, "name": "Lujiang Sand & Gravel",
                                                     "kind": "organisation", "customer_type_id": INTENDED},
                       201)["customer_id"]
    ma = http.post("sales.wang", "/customers", {"company_id": HF, "name": "Ma Jun (private buyer)",
                                                "kind": "person", "customer_type_id": POTENTIAL}, 201)["customer_id"]
    shu = http.post("sales.li", "/customers", {"company_id": HF, "name": "Shu Qing", "kind": "person",
                                               "customer_type_id": POTENTIAL}, 201)["customer_id"]
    port = http.post("sales.wu", "/customers", {"company_id": wh, "name": "Wuhu Port Works",
                                                "kind": "organisation", "customer_type_id": FORMAL},
                     201)["customer_id"]
    ma_li = http.post("sales.wang", "/contacts", {"company_id": HF, "name": "Ma Li", "phone": "138 0551 0101",
                                                  "title": "Site manager"}, 201)["contact_id"]
    http.post("clerk.chen", f"/customers/{roadworks}/link-contact", {"contact_id": ma_li})
    http.post("sales.wang", f"/customers/{roadworks}/tag", {"tag_id": VIP})
    http.post("sales.wang", f"/customers/{roadworks}/tag", {"tag_id": gold_tag})
    http.post("sales.wang", f"/customers/{roadworks}/untag", {"tag_id": gold_tag})
    http.refused("sales.li", f"/customers/{roadworks}/tag", {"tag_id": gold_tag}, 404, "customer-not-found")

    # ------------------------------------------------------------ D0: contracts
    def draft(owner: str, customer: str, model: str, price: str, contact: str | None = None,
              company: str = HF) -> dict[str, Any]:
        body: dict[str, Any] = {"company_id": company, "customer_id": customer,
                                "lines": [{"model_id": model, "quantity": 1, "unit_price": price}]}
        if contact:
            body["contact_id"] = contact
        return http.post(owner, "/contracts", body, 201)

    # C1: a cash sale, revised, returned once by the clerk, approved, un-approved and approved again.
    c1 = draft("sales.wang", roadworks, XE60, "150000.00", ma_li)
    http.post("sales.wang", f"/contracts/{c1['contract_id']}/revise-draft", {
        "customer_id": roadworks, "contact_id": ma_li,
        "lines": [{"model_id": XE60, "quantity": 1, "unit_price": "148000.00", "substitute_allowed": True}]})
    http.post("sales.wang", f"/contracts/{c1['contract_id']}/submit-to-clerk")
    http.post("clerk.chen", f"/contracts/{c1['contract_id']}/return-to-salesperson",
              {"reason": "Add the customer's business licence"})
    http.post("sales.wang", f"/contracts/{c1['contract_id']}/submit-to-clerk")
    cash_terms = {"payment": "cash", "warranty_deposit": "7400.00",
                  "warranty_due_date": (D0 + timedelta(days=365)).isoformat(),
                  "accessories": [{"name": "Quick coupler", "quantity": 1, "unit_price": "3500.00"}],
                  "coupons": [{"face_value": "2000.00", "quantity": 1, "note": "Opening offer"}]}
    http.post("clerk.chen", f"/contracts/{c1['contract_id']}/complete-terms", cash_terms)
    http.retry()
    http.post("clerk.chen", f"/contracts/{c1['contract_id']}/submit-for-approval")
    http.refused("sales.wang", f"/contracts/{c1['contract_id']}/approve", None, 403, "not-your-approval-step")
    approve_contract(http, c1["contract_id"])
    http.post("manager.zhao", f"/contracts/{c1['contract_id']}/unapprove", {"reason": "Coupons to be changed"})
    http.post("clerk.chen", f"/contracts/{c1['contract_id']}/complete-terms", {
        **cash_terms, "coupons": [{"face_value": "1500.00", "quantity": 2, "note": "Second terms"}]})
    http.post("clerk.chen", f"/contracts/{c1['contract_id']}/submit-for-approval")
    approve_contract(http, c1["contract_id"])
    http.retry()

    # C2: an instalment sale of 380,000.00: two approval steps.
    c2 = draft("sales.wang", gravel, SY215C, "380000.00")
    http.post("sales.wang", f"/contracts/{c2['contract_id']}/submit-to-clerk")
    http.post("clerk.chen", f"/contracts/{c2['contract_id']}/complete-terms", {
        "payment": "installment", "down_payment": "80000.00",
        "installment": {"months": 12, "annual_rate": "0.0435", "first_due_date": "2026-06-30",
                        "method": "equal_installment"},
        "accessories": [{"name": "Breaker hammer", "quantity": 1, "unit_price": "0.00"}]})
    http.post("clerk.chen", f"/contracts/{c2['contract_id']}/submit-for-approval")
    first_step = http.post("manager.zhao", f"/contracts/{c2['contract_id']}/approve")
    assert first_step["waiting_for"] is not None, first_step
    http.refused("manager.zhao", f"/contracts/{c2['contract_id']}/approve", None, 403, "not-your-approval-step")
    http.post("finance.sun", f"/contracts/{c2['contract_id']}/approve")

    # C3: rejected by the sales manager.
    c3 = draft("sales.li", shu, XE60, "165000.00")
    http.post("sales.li", f"/contracts/{c3['contract_id']}/submit-to-clerk")
    http.post("clerk.chen", f"/contracts/{c3['contract_id']}/complete-terms", {"payment": "cash"})
    http.post("clerk.chen", f"/contracts/{c3['contract_id']}/submit-for-approval")
    http.post("manager.zhao", f"/contracts/{c3['contract_id']}/reject", {"reason": "Credit check failed"})

    # C4: a cash sale whose delivery goes back and forth.
    c4 = draft("sales.wang", ma, XE60, "158000.00")
    http.post("sales.wang", f"/contracts/{c4['contract_id']}/submit-to-clerk")
    http.post("clerk.chen", f"/contracts/{c4['contract_id']}/complete-terms", {"payment": "cash"})
    http.post("clerk.chen", f"/contracts/{c4['contract_id']}/submit-for-approval")
    approve_contract(http, c4["contract_id"])

    # C5: an instalment sale to the demo's Hefei Earthworks on a typed schedule.
    c5 = draft("sales.wang", demo_customer(http, earthworks), SY215C, "320000.00")
    http.post("sales.wang", f"/contracts/{c5['contract_id']}/submit-to-clerk")
    http.post("clerk.chen", f"/contracts/{c5['contract_id']}/complete-terms", {
        "payment": "installment", "down_payment": "60000.00",
        "installment": {"months": 3, "annual_rate": "0", "first_due_date": "2026-06-15", "method": "typed"}})
    http.post("clerk.chen", f"/contracts/{c5['contract_id']}/submit-for-approval")
    approve_contract(http, c5["contract_id"])
    http.post("clerk.chen", f"/receivables/{c5['contract_id']}/schedule", {"lines": [
        {"due_date": "2026-06-15", "principal": "90000.00", "interest": "500.00"},
        {"due_date": "2026-07-15", "principal": "90000.00", "interest": "300.00"},
        {"due_date": "2026-08-15", "principal": "80000.00", "interest": "100.00"}]})

    # C6: equal principal, its schedule generated again by the clerk before anything is paid.
    c6 = draft("sales.wang", gravel, LG855, "210000.00")
    http.post("sales.wang", f"/contracts/{c6['contract_id']}/submit-to-clerk")
    http.post("clerk.chen", f"/contracts/{c6['contract_id']}/complete-terms", {
        "payment": "installment", "down_payment": "30000.00",
        "installment": {"months": 6, "annual_rate": "0.0435", "first_due_date": "2026-06-30",
                        "method": "equal_principal"}})
    http.post("clerk.chen", f"/contracts/{c6['contract_id']}/submit-for-approval")
    approve_contract(http, c6["contract_id"])
    http.post("clerk.chen", f"/receivables/{c6['contract_id']}/schedule/generate", {
        "annual_rate": "0.05", "months": 9, "first_due_date": "2026-07-31", "method": "equal_installment"})

    # The demo's contracts taken on; a Wuhu sale with its own approval rule.
    approve_contract(http, quarry)
    http.post("clerk.chen", f"/contracts/{farmer_with_clerk}/complete-terms", {
        "payment": "installment", "down_payment": "40000.00",
        "installment": {"months": 24, "annual_rate": "0.0475", "first_due_date": "2026-06-30"}})
    http.post("clerk.chen", f"/contracts/{farmer_with_clerk}/submit-for-approval")
    http.post("sales.li", f"/contracts/{farmer_draft}/submit-to-clerk")
    c7 = draft("sales.wu", port, zl50, "200000.00", company=wh)
    http.post("sales.wu", f"/contracts/{c7['contract_id']}/submit-to-clerk")
    http.post("admin", f"/contracts/{c7['contract_id']}/complete-terms", {"payment": "cash"})
    http.post("admin", f"/contracts/{c7['contract_id']}/submit-for-approval")
    approve_contract(http, c7["contract_id"], first="manager.wh")

    # ------------------------------------------------------------ D0: deliveries
    out = f"/contracts/{c2['contract_id']}/delivery"
    http.post("sales.wang", f"{out}/pick", {"serial_number": serials["SY1"]})
    http.retry()
    http.refused("sales.wang", f"{out}/pick", {"serial_number": serials["SY1"]}, 409, "machine-already-picked")
    http.post("clerk.chen", f"{out}/accessory-lines", {"quantity": 1, "agreed_accessory_no": 1})
    http.post("clerk.chen", f"{out}/accessory-lines", {"quantity": 2, "name": "Grease gun", "unit_price": "85.50"})
    http.post("clerk.chen", f"{out}/accessory-lines/2/remove")
    http.post("clerk.chen", f"{out}/accessory-lines", {"quantity": 2, "part_id": OF_215C, "warehouse_id": HF_PARTS})
    http.post("finance.sun", f"{out}/review", {"outbound_no": 1})
    http.post("keeper.hf", f"{out}/dispatch", {"outbound_no": 1})
    http.post("clerk.chen", f"{out}/swap", {"old_serial": serials["SY1"], "new_serial": serials["SY2"],
                                            "reason": "Hydraulic fault on delivery"})

    out = f"/contracts/{c4['contract_id']}/delivery"
    http.post("sales.wang", f"{out}/pick", {"serial_number": serials["XE1"]})
    http.post("sales.wang", f"{out}/release", {"serial_number": serials["XE1"],
                                               "reason": "Customer wants a cab heater"})
    http.post("sales.wang", f"{out}/pick", {"serial_number": serials["XE2"]})
    http.post("finance.sun", f"{out}/review", {"outbound_no": 1})
    http.post("finance.sun", f"{out}/return", {"outbound_no": 1, "reason": "Wrong unit picked"})
    http.post("sales.wang", f"{out}/release", {"serial_number": serials["XE2"], "reason": "Wrong unit picked"})
    http.post("sales.wang", f"{out}/pick", {"serial_number": serials["XE3"]})
    http.post("finance.sun", f"{out}/review", {"outbound_no": 1})
    http.post("keeper.hf", f"{out}/dispatch", {"outbound_no": 1})

    for contract, serial in ((c1, serials["XE4"]), (c5, serials["SY3"])):
        out = f"/contracts/{contract['contract_id']}/delivery"
        http.post("sales.wang", f"{out}/pick", {"serial_number": serial})
        http.post("finance.sun", f"{out}/review", {"outbound_no": 1})
        http.post("keeper.hf", f"{out}/dispatch", {"outbound_no": 1})

    # ------------------------------------------------------------ D0: receivables and coupons
    http.post("admin", "/penalty-rates", {"company_id": HF, "effective_from": (D0 + timedelta(days=1)).isoformat(),
                                          "daily_rate": "0.0005", "grace_days": 3})
    http.post("admin", "/penalty-rates", {"company_id": CZ, "effective_from": (D0 + timedelta(days=1)).isoformat(),
                                          "daily_rate": "0.0004"})
    http.post("finance.sun", f"/receivables/{scenario}/receipts/{down_payment}/confirm")

    def receipt(contract: str, amount: str, day: date, reference: str | None = None, **extra: Any) -> str:
        body = {"amount": amount, "value_date": day.isoformat(), "method": extra.pop("method", "bank_transfer"),
                **({"reference": reference} if reference else {}), **extra}
        return http.post("clerk.chen", f"/receivables/{contract}/receipts", body, 201)["receipt_id"]

    r = receipt(c2["contract_id"], "80000.00", D0, "BOC 2201")
    http.post("finance.sun", f"/receivables/{c2['contract_id']}/receipts/{r}/confirm")
    http.retry()
    r = receipt(c2["contract_id"], "5000.00", D0, "BOC 2201 (again)")
    http.refused("clerk.chen", f"/receivables/{c2['contract_id']}/receipts/{r}/reject", {"reason": "mine"},
                 403, "forbidden")
    http.post("finance.sun", f"/receivables/{c2['contract_id']}/receipts/{r}/reject", {"reason": "Duplicate slip"})
    r = receipt(c2["contract_id"], "1000.00", D0, "Cheque 0042", method="cheque")
    http.post("finance.sun", f"/receivables/{c2['contract_id']}/receipts/{r}/confirm")
    http.post("finance.sun", f"/receivables/{c2['contract_id']}/receipts/{r}/reverse", {"reason": "Cheque bounced"})
    r = receipt(c5["contract_id"], "60000.00", D0, "Down payment with the spring promotion",
                coupons=[{"code": "PROMO-2026-001", "amount": "2000.00"}])
    http.post("finance.sun", f"/receivables/{c5['contract_id']}/receipts/{r}/confirm")
    r = receipt(c6["contract_id"], "30000.00", D0, "ICBC 7781", allocate_to=["DP"])
    http.post("finance.sun", f"/receivables/{c6['contract_id']}/receipts/{r}/confirm")

    promo = {"code": "GOLD-PROMO-1", "company_id": HF, "origin": "promotion", "holder_kind": "customer",
             "holder_id": roadworks, "face_value": "1000.00", "amount_paid": "500.00",
             "valid_until": (D0 + timedelta(days=365)).isoformat(), "note": "Golden promotion"}
    http.post("clerk.chen", "/coupons", promo, 201, key="golden:coupon:GOLD-PROMO-1")
    http.retry()
    http.refused("clerk.chen", "/coupons", promo, 409, "coupon-code-exists")
    http.post("clerk.chen", "/coupons", {"code": "GOLD-GIFT-1", "company_id": HF, "origin": "gift",
                                         "holder_kind": "contact", "holder_id": ma_li, "face_value": "800.00",
                                         "promised_by": WANG, "reason": "Referred a quarry to us"}, 201)
    http.post("finance.sun", "/coupons/GOLD-PROMO-1/adjust", {"amount": "250.00", "approved_by": ZHAO,
                                                              "reason": "Goodwill"})
    http.post("finance.sun", "/coupons/GOLD-PROMO-1/adjust", {"amount": "-50.00", "approved_by": ZHAO,
                                                              "reason": "Correction"})
    http.post("finance.sun", "/coupons/GOLD-GIFT-1/details", {
        "holder_kind": "contact", "holder_id": ma_li, "valid_from": D0.isoformat(),
        "valid_until": (D0 + timedelta(days=180)).isoformat(), "note": "Half a year", "reason": "Validity agreed"})
    http.post("clerk.chen", "/coupons", {**promo, "code": "GOLD-PROMO-2", "face_value": "300.00",
                                         "amount_paid": "100.00"}, 201)
    http.post("finance.sun", "/coupons/GOLD-PROMO-2/void", {"reason": "Printed twice"})
    c1_coupon = f"{c1['number']}-C1-2"
    http.post("finance.sun", f"/coupons/{c1_coupon}/void", {"reason": "Customer declined the second coupon"})
    r = receipt(c1["contract_id"], "1000.00", D0, "Part payment", coupons=[{"code": "GOLD-PROMO-1",
                                                                           "amount": "700.00"}])
    http.post("finance.sun", f"/receivables/{c1['contract_id']}/receipts/{r}/confirm")

    # ------------------------------------------------------------ D0: parts
    pin = http.post("admin", "/parts", {"part_no": "GOLD-PIN-01", "name": "Bucket pin, SY215C", "unit": "pc",
                                        "category": "wear", "purchase_price": "55.00", "sale_price": "95.00"},
                    201)["part_id"]
    hose = http.post("admin", "/parts", {"part_no": "GOLD-HOSE-01", "name": "Boom hose, SY215C", "unit": "pc",
                                         "category": "hydraulic", "purchase_price": "180.00",
                                         "sale_price": "260.00"}, 201)["part_id"]
    http.post("clerk.chen", f"/parts/{pin}/prices", {"purchase_price": "58.00", "sale_price": "99.00",
                                                     "reason": "Supplier price list 2026"})
    order = http.post("clerk.chen", "/purchase-orders", {
        "company_id": HF, "supplier": "Hefei Hydraulics Co", "warehouse_id": HF_PARTS,
        "lines": [{"part_id": pin, "quantity": 40}, {"part_id": hose, "quantity": 10, "unit_price": "170.00"}]},
        201)["order_id"]
    http.post("keeper.hf", f"/purchase-orders/{order}/receive", {"lines": [{"line_no": 1, "quantity": 25},
                                                                          {"line_no": 2, "quantity": 10}]})
    http.post("keeper.hf", f"/purchase-orders/{order}/receive", {"lines": [{"line_no": 1, "quantity": 15}]})
    http.post("keeper.hf", f"/purchase-orders/{partly_received}/receive", {"lines": [{"line_no": 5, "quantity": 2}]})
    http.post("keeper.hf", f"/parts-outbounds/{waiting_outbound}/ship")

    quote = http.post("clerk.chen", "/parts-quotes", {
        "company_id": HF, "customer_id": roadworks, "valid_until": (D0 + timedelta(days=30)).isoformat(),
        "lines": [{"part_id": pin, "quantity": 4}, {"part_id": hose, "quantity": 1, "unit_price": "250.00"}]},
        201)["quote_id"]
    http.post("clerk.chen", f"/parts-quotes/{quote}/agree")
    sale = http.post("clerk.chen", "/parts-sales", {"quote_id": quote, "channel": "overhaul_shop",
                                                    "warehouse_id": HF_PARTS}, 201)["sale_id"]
    shipped = http.post("clerk.chen", f"/parts-sales/{sale}/submit")
    http.post("keeper.hf", f"/parts-outbounds/{shipped['outbound_id']}/ship")
    http.post("clerk.chen", "/coupons", {"code": "GOLD-PARTS-1", "company_id": HF, "origin": "promotion",
                                         "holder_kind": "customer", "holder_id": roadworks, "face_value": "100.00",
                                         "amount_paid": "50.00"}, 201)
    http.post("finance.sun", f"/parts-sales/{sale}/receipts", {
        "amount": "300.00", "value_date": d(), "method": "bank_transfer", "reference": "Parts GOLD 1",
        "coupons": [{"code": "gold-parts-1", "amount": "100.00"}]}, 201)
    http.refused("finance.sun", f"/parts-sales/{sale}/receipts", {"amount": "9999.00", "value_date": d(),
                                                                 "method": "cash"}, 409, "overpayment")
    http.post("clerk.chen", f"/parts-sales/{sale}/receipts", {"amount": "346.00", "value_date": d(),
                                                             "method": "cash"}, 201)
    walk_in = http.post("clerk.chen", "/parts-quotes", {
        "company_id": HF, "customer_name": "Walk-in Mr Tao", "valid_until": (D0 + timedelta(days=7)).isoformat(),
        "lines": [{"part_id": pin, "quantity": 1}]}, 201)["quote_id"]
    http.post("clerk.chen", f"/parts-quotes/{walk_in}/agree")
    cancelled = http.post("clerk.chen", "/parts-sales", {"quote_id": walk_in, "channel": "walk_in",
                                                         "warehouse_id": HF_PARTS}, 201)["sale_id"]
    http.post("clerk.chen", f"/parts-sales/{cancelled}/submit")
    http.post("clerk.chen", f"/parts-sales/{cancelled}/cancel", {"reason": "Customer changed their mind"})

    request = http.post("tech.zhou", "/parts-requests", {"mobile_warehouse_id": ZHOU_VAN, "note": "Van stock",
                                                          "lines": [{"part_id": pin, "quantity": 6}]},
                        201)["request_id"]
    handled = http.post("clerk.chen", f"/parts-requests/{request}/handle", {"path": "from_warehouse",
                                                                            "warehouse_id": HF_PARTS})
    http.post("keeper.hf", f"/parts-outbounds/{handled['outbound_id']}/ship")
    http.post("tech.zhou", f"/parts-requests/{request}/confirm-receipt")
    http.retry()
    handled = http.post("clerk.chen", f"/parts-requests/{teeth_request}/handle", {
        "path": "purchase_to_warehouse", "warehouse_id": HF_PARTS, "supplier": "Sany parts centre Hefei"})
    http.post("keeper.hf", f"/purchase-orders/{handled['purchase_order_id']}/receive",
              {"lines": [{"line_no": 1, "quantity": 4}]})
    for outbound in outbounds_of(http, office, teeth_request):
        http.post("keeper.hf", f"/parts-outbounds/{outbound}/ship")
    http.post("tech.zhou", f"/parts-requests/{teeth_request}/confirm-receipt")
    http.post("tech.zhou", f"/parts-requests/{emergency}/confirm-receipt")
    work = http.post("tech.zhou", "/work-orders", {"mobile_warehouse_id": ZHOU_VAN, "customer_id": roadworks,
                                                   "serial_number": serials["XE4"], "job_type": "repair"},
                     201)["work_order_id"]
    http.post("tech.zhou", f"/work-orders/{work}/consume", {"lines": [{"part_id": pin, "quantity": 2}]})
    http.post("tech.zhou", f"/work-orders/{work}/consume", {"lines": [{"part_id": BT_215C, "quantity": 1}]})
    http.post("tech.zhou", f"/work-orders/{work}/complete")
    http.post("tech.zhou", f"/work-orders/{demo_work_order}/complete")
    http.post("tech.zhou", "/work-orders", {"mobile_warehouse_id": ZHOU_VAN, "customer_name": "Feixi Quarry",
                                            "serial_number": "SY215C-2026009", "job_type": "inspection"}, 201)

    # ------------------------------------------------------------ D1: overdue, penalties, collection
    calendar.day = D1
    http.post("finance.sun", "/penalty-accruals", {"through": (D1 - timedelta(days=1)).isoformat()}, key=None)
    http.post("finance.sun", "/penalty-accruals", {"through": (D1 - timedelta(days=1)).isoformat()}, key=None)
    for contract in (c1, c2, c5):
        http.post("finance.sun", f"/receivables/{contract['contract_id']}/collector", {"collector_id": ZHANG})
    base = f"/receivables/{c1['contract_id']}"
    http.post("collector.zhang", f"{base}/collection-logs", {
        "contact_date": D1.isoformat(), "contact_person": "Mr Ma, site manager", "channel": "visit",
        "result": "Promises to pay once the road contract pays him.",
        "promised_date": (D1 + timedelta(days=7)).isoformat(), "promised_amount": "50000.00"}, 201)
    lock = http.post("collector.zhang", f"{base}/lock-applications", {"serial_number": serials["XE4"],
                                                                       "reason": "Cash sale unpaid since May."}, 201)
    http.retry()
    http.refused("collector.zhang", f"/collection-applications/{lock['application_id']}/decide",
                 {"decision": "approve"}, 403, "own-document")
    approve_all(http, lock)
    http.post("clerk.chen", f"/collection-applications/{lock['application_id']}/register-locked", {"at": at(D1, 10)})
    unlock = http.post("collector.zhang", f"{base}/unlock-applications", {
        "serial_number": serials["XE4"], "reason": "Paid a first part; promises the rest."}, 201)
    approve_all(http, unlock)
    http.post("clerk.chen", f"/collection-applications/{unlock['application_id']}/register-unlocked",
              {"at": at(D1, 15)})

    base = f"/receivables/{c5['contract_id']}"
    lock = http.post("collector.zhang", f"{base}/lock-applications", {"serial_number": serials["SY3"],
                                                                       "reason": "June instalment unpaid."}, 201)
    approve_all(http, lock)
    http.post("clerk.chen", f"/collection-applications/{lock['application_id']}/register-locked", {"at": at(D1, 11)})
    tow = http.post("collector.zhang", f"{base}/tow-applications", {
        "serial_number": serials["SY3"], "reason": "Locked and still no payment; site closing."}, 201)
    approve_all(http, tow)
    http.post("clerk.chen", f"/collection-applications/{tow['application_id']}/register-tow", {
        "towed_on": D1.isoformat(), "place": "Feixi site", "people": ["Li Ming", "Wu Gang"]})
    http.post("keeper.hf", f"/collection-applications/{tow['application_id']}/receive-machine",
              {"warehouse_id": HF_MAIN})

    rejected = http.post("collector.zhang", f"/receivables/{c2['contract_id']}/lock-applications", {
        "serial_number": serials["SY2"], "reason": "June instalment late."}, 201)
    http.post("manager.zhao", f"/collection-applications/{rejected['application_id']}/decide",
              {"decision": "reject", "reason": "The customer promised to pay on Friday."})
    r = receipt(c2["contract_id"], "25592.97", D1, "BOC 2390")
    http.post("finance.sun", f"/receivables/{c2['contract_id']}/receipts/{r}/confirm")

    # The demo's overdue sale: its lock turned down, paid in full, penalty partly waived, settled.
    http.post("manager.zhao", f"/collection-applications/{demo_lock}/decide",
              {"decision": "reject", "reason": "The customer is paying in full."})
    office.catch_up()
    owed = http.get("finance.sun", f"/receivables/{overdue_sale}")
    r = receipt(overdue_sale, owed["outstanding"], D1, "Full payment", penalty_last=True)
    http.post("finance.sun", f"/receivables/{overdue_sale}/receipts/{r}/confirm")
    office.catch_up()
    penalty = Decimal(http.get("finance.sun", f"/receivables/{overdue_sale}")["penalty_outstanding"])
    assert penalty > 100, penalty
    waiver = http.post("collector.zhang", f"/receivables/{overdue_sale}/interest-waivers", {
        "amount": str(penalty - 100), "reason": "Principal paid in full; the customer asks."}, 201)
    approve_all(http, waiver)
    r = receipt(overdue_sale, "100.00", D1, "Remaining penalty", method="cash")
    http.post("finance.sun", f"/receivables/{overdue_sale}/receipts/{r}/confirm")
    settlement = http.post("clerk.chen", f"/receivables/{overdue_sale}/settlement-applications",
                           {"reason": "Everything received or waived."}, 201)
    approve_all(http, settlement)
    http.post("finance.sun", f"/receivables/{overdue_sale}/settlement-documents", {
        "invoice_number": "INV-2026-0001", "certificate_number": "HGZ-0021", "released_to": "Mr Liu"})
    http.retry()

    # ------------------------------------------------------------ D2: the next daily run
    calendar.day = D2
    http.post("finance.sun", "/penalty-accruals", {"through": D1.isoformat()}, key=None)

    # ------------------------------------------------------------ four more months of business
    last = D2
    for month, day in enumerate(MONTH_ENDS, 1):
        # The daily run (July and August day by day, as the worker does; then once a month).
        runs = [last + timedelta(days=n) for n in range(1, (day - last).days + 1)] if month <= 2 else [day]
        for run_day in runs:
            calendar.day = run_day
            http.post("finance.sun", "/penalty-accruals", {"through": (run_day - timedelta(days=1)).isoformat()},
                      key=None)
        last = day
        r = receipt(c2["contract_id"], "25592.97", day, f"BOC 24{month:02d}")
        http.post("finance.sun", f"/receivables/{c2['contract_id']}/receipts/{r}/confirm")
        office.catch_up()
        due = [i for i in http.get("clerk.chen", f"/receivables/{c6['contract_id']}")["items"]
               if Decimal(i["unpaid"]) > 0 and i["due_date"] <= day.isoformat()]
        for item in due:
            r = receipt(c6["contract_id"], item["unpaid"], day, f"ICBC {item['item']}", allocate_to=[item["item"]])
            http.post("finance.sun", f"/receivables/{c6['contract_id']}/receipts/{r}/confirm")
        if month == 2:      # Chaohu Roadworks pays the cash sale at last, late and in two parts
            for amount in ("100000.00", "43100.00"):
                r = receipt(c1["contract_id"], amount, day, "Road contract paid", penalty_last=True)
                http.post("finance.sun", f"/receivables/{c1['contract_id']}/receipts/{r}/confirm")
        # New stock, moved between companies' warehouses.
        for n in range(1, 4):
            serial = f"LG855-G{month}{n:02d}"
            http.post("keeper.hf", "/machines/receive", {"serial_number": serial, "model_id": LG855,
                                                         "warehouse_id": HF_MAIN, "nature": "purchased_sample"}, 201)
        http.post("admin", f"/machines/LG855-G{month}01/transfer", {"to_warehouse_id": CZ_MAIN,
                                                                   "reason": "Chuzhou stock rebalancing"})
        # A parts sale of the month, paid at the counter.
        quote = http.post("clerk.chen", "/parts-quotes", {
            "company_id": HF, "customer_id": gravel, "valid_until": (day + timedelta(days=14)).isoformat(),
            "lines": [{"part_id": pin, "quantity": month}, {"part_id": OF_215C, "quantity": 2}]}, 201)["quote_id"]
        http.post("clerk.chen", f"/parts-quotes/{quote}/agree")
        sale = http.post("clerk.chen", "/parts-sales", {"quote_id": quote, "channel": "walk_in",
                                                        "warehouse_id": HF_PARTS}, 201)
        submitted = http.post("clerk.chen", f"/parts-sales/{sale['sale_id']}/submit")
        http.post("keeper.hf", f"/parts-outbounds/{submitted['outbound_id']}/ship")
        http.post("clerk.chen", f"/parts-sales/{sale['sale_id']}/receipts", {
            "amount": sale["total"], "value_date": day.isoformat(), "method": "card"}, 201)
        # The technician's van topped up and a service job done from it.
        request = http.post("tech.zhou", "/parts-requests", {
            "mobile_warehouse_id": ZHOU_VAN, "lines": [{"part_id": pin, "quantity": 2},
                                                       {"part_id": OF_215C, "quantity": 1}]}, 201)["request_id"]
        handled = http.post("clerk.chen", f"/parts-requests/{request}/handle", {"path": "from_warehouse",
                                                                                "warehouse_id": HF_PARTS})
        http.post("keeper.hf", f"/parts-outbounds/{handled['outbound_id']}/ship")
        http.post("tech.zhou", f"/parts-requests/{request}/confirm-receipt")
        job = http.post("tech.zhou", "/work-orders", {"mobile_warehouse_id": ZHOU_VAN, "customer_id": gravel,
                                                      "serial_number": serials["SY2"], "job_type": "maintenance"},
                        201)["work_order_id"]
        http.post("tech.zhou", f"/work-orders/{job}/consume", {"lines": [{"part_id": pin, "quantity": 1},
                                                                        {"part_id": OF_215C, "quantity": 1}]})
        http.post("tech.zhou", f"/work-orders/{job}/complete")
        # Stock for next month.
        order = http.post("clerk.chen", "/purchase-orders", {
            "company_id": HF, "supplier": "Sany parts centre Hefei", "warehouse_id": HF_PARTS,
            "lines": [{"part_id": pin, "quantity": 10}, {"part_id": OF_215C, "quantity": 5}]}, 201)["order_id"]
        http.post("keeper.hf", f"/purchase-orders/{order}/receive", {"lines": [{"line_no": 1, "quantity": 10},
                                                                              {"line_no": 2, "quantity": 5}]})
    # ------------------------------------------------------------ what users see at the end
    office.catch_up()
    big = {"page_size": 500}
    tour: list[tuple[str, str, dict[str, Any]]] = [
        ("admin", "/companies", {}), ("admin", "/warehouses", {}), ("admin", "/machine-models", {}),
        ("admin", "/users", {}), ("admin", "/positions", {}), ("admin", "/customer-catalogue", {}),
        ("admin", "/approvals/rules", {}), ("admin", "/penalty-rates", {}),
        ("risk.manager", "/machines", big), ("finance.sun", "/machines", big), ("keeper.hf", "/machines/counts", {}),
        ("keeper.hf", "/machines/export", {}), ("clerk.chen", f"/machines/{serials['SY3']}", {}),
        ("clerk.chen", f"/machines/{serials['SY1']}/history", {}),
        ("sales.wang", "/customers", big), ("sales.li", "/customers", big), ("clerk.chen", "/contacts", big),
        ("sales.wang", f"/customers/{roadworks}", {}), ("admin", "/customers/counts", {}),
        ("sales.wang", "/contracts", big), ("sales.li", "/contracts", big), ("admin", "/contracts/counts", {}),
        ("finance.sun", f"/contracts/{c1['contract_id']}", {}),
        ("finance.sun", f"/contracts/{c1['contract_id']}/history", {}),
        ("finance.sun", f"/contracts/{c2['contract_id']}/delivery", {}), ("finance.sun", "/outbounds", big),
        ("finance.sun", "/machine-swaps", big), ("manager.zhao", "/approvals/mine", big),
        ("manager.zhao", "/approvals/mine/counts", {}),
        ("finance.sun", "/receivables", big), ("finance.sun", "/receivables/aging", {}),
        ("finance.sun", "/receivables/export", {}), ("finance.sun", f"/receivables/{c2['contract_id']}", {}),
        ("finance.sun", f"/receivables/{c5['contract_id']}", {}),
        ("finance.sun", f"/receivables/{overdue_sale}/history", {}),
        ("finance.sun", f"/receivables/customers/{roadworks}/statement", {}),
        ("finance.sun", "/receipts", big), ("finance.sun", "/collection-applications", big),
        ("collector.zhang", "/collections/mine", big),
        ("finance.sun", "/coupons", big), ("finance.sun", "/coupons/summary", {}),
        ("finance.sun", "/coupons/GOLD-PROMO-1", {}), ("finance.sun", "/coupons/GOLD-PROMO-1/usage", {}),
        ("clerk.chen", "/parts", big), ("keeper.hf", "/parts-stock", big), ("keeper.hf", "/parts-stock/export", {}),
        ("clerk.chen", f"/parts/{pin}/movements", big), ("clerk.chen", "/purchase-orders", big),
        ("clerk.chen", "/parts-quotes", big), ("clerk.chen", "/parts-sales", big),
        ("keeper.hf", "/parts-outbounds", big), ("tech.zhou", "/parts-requests", big),
        ("tech.zhou", "/work-orders", big),
        ("auditor", "/audit/rollbacks", {**big, "date_from": "2025-12-01", "date_to": "2026-10-31"}),
    ]
    for username, path, params in tour:
        http.get(username, path, **params)


def demo_customer(http: Http, name: str) -> str:
    [customer] = [c["customer_id"] for c in http.get("sales.wang", "/customers", page_size=100)["items"]
                  if c["name"] == name]
    return customer


def outbounds_of(http: Http, office: BackOffice, request_id: str) -> list[str]:
    """The outbounds that an emergency purchase's receipt reserved for the technician."""
    office.catch_up()
    waiting = http.get("keeper.hf", "/parts-outbounds", status="waiting", page_size=100)["items"]
    return [o["document_id"] for o in waiting if o.get("source_id") == request_id]
