"""A console session is the API's token in a cookie: it ends, at the next page, when the
person's password changes elsewhere or a role is taken from them, as a token does."""

from __future__ import annotations

import re
import uuid

from tests.e2e.conftest import HF


def _new_clerk(demo_server) -> str:
    """A clerk of Hefei of this test's own (the demo's people are shared by every test)."""
    name = f"clerk.{uuid.uuid4().hex[:8]}"
    with demo_server.as_admin() as admin:
        positions = admin.get("/positions").json()["items"]
        hefei = next(p["position_id"] for p in positions if p["company_ids"] == [HF])
        created = admin.post("/users", json={"username": name, "display_name": "Clerk", "password": "first-pass-2026",
                                             "roles": ["sales_clerk"], "position_ids": [hefei]})
        assert created.status_code == 201, created.text
    return name


def test_changing_my_password_signs_my_other_desks_out_and_keeps_me_in(person, demo_server):
    name = _new_clerk(demo_server)
    desk, phone = person(), person(width=390)
    desk.sign_in(name, "first-pass-2026")
    phone.sign_in(name, "first-pass-2026")
    page = desk.open("/console/account")
    page.fill("#f-current_password", "wrong-pass-2026")
    page.fill("#f-new_password", "second-pass-2026")
    page.click("form.command button.primary")
    assert page.locator(".field-error").count() == 1 and page.input_value("#f-new_password") == ""
    page.fill("#f-current_password", "first-pass-2026")
    page.fill("#f-new_password", "second-pass-2026")
    page.click("form.command button.primary")
    page.wait_for_url(re.compile(r"done=ChangePassword"))
    assert "密码已修改" in page.content()
    desk.shot("account-password-changed")
    assert desk.open("/console/contracts").url.split("?")[0].endswith("/console/contracts")   # still in
    assert "/console/sign-in" in phone.open("/console/contracts").url                          # out
    phone.sign_in(name, "second-pass-2026")
    assert phone.page.url.rstrip("/").endswith("/console")


def test_a_role_taken_away_counts_at_the_next_page(person, demo_server):
    name = _new_clerk(demo_server)
    clerk = person()
    clerk.sign_in(name, "first-pass-2026")
    assert clerk.open("/console/contracts").locator("h1").inner_text() == "销售合同"
    with demo_server.as_admin() as admin:
        user_id = next(u["user_id"] for u in admin.get("/users").json()["items"] if u["username"] == name)
        assert admin.post(f"/users/{user_id}/revoke-role", json={"role": "sales_clerk"}).status_code == 200
    page = clerk.open("/console/contracts")
    assert page.locator("h1").inner_text() == "无权操作"
    assert page.locator("nav.menu a", has_text="销售合同").count() == 0
