"""Nothing the product serves is loaded from outside the server: the console's pages and the
API's Swagger page render with every request answered by the server itself (a branch office
may be offline, or behind the Great Firewall)."""

from __future__ import annotations


def _local_only(office, requests: list[str]) -> None:
    def route(r):
        requests.append(r.request.url)
        if r.request.url.startswith(office.base_url):
            r.continue_()
        else:
            r.abort()
    office.page.route("**/*", route)


def test_the_swagger_page_renders_offline(person):
    office = person()
    seen: list[str] = []
    _local_only(office, seen)
    page = office.open("/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "ironledger" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 100          # every operation is listed
    office.shot("api-docs", full_page=False)
    assert seen and all(url.startswith(office.base_url) for url in seen), seen


def test_console_pages_load_nothing_from_outside(person):
    office = person()
    seen: list[str] = []
    _local_only(office, seen)
    office.sign_in("clerk.chen")
    for path in ("/console/", "/console/contracts", "/console/approvals", "/console/account"):
        office.open(path)
    outside = [url for url in seen if not url.startswith(office.base_url)]
    assert not outside, outside
    fonts = office.page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in fonts      # the machine's own CJK font, never a web font
