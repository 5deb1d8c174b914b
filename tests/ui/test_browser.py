"""Both pages of `racetwin serve` in a real Chromium: the live page follows a fast replay lap by lap,
a recommendation card appears once our pit window opens, a what-if run completes and changes the plot,
and 20 sessions opened and closed leave the server's sessions, callbacks and hub subscriptions where they were."""

from __future__ import annotations

import httpx
import pytest

from tests.util import REPO, ServerProcess, wait_until

LOAD_TIMEOUT_MS = 120_000  # hang detectors on a loaded 2-core machine, not performance limits


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess("--seed", "3", "--speed", "20", "--strategy-runs", "2000",
                       tmp_path=tmp_path_factory.mktemp("ui")) as srv:
        yield srv


def _views(server) -> dict:
    return httpx.get(f"{server.base}/api/v1/health", timeout=60).json()["components"]["views"]


def _leader_lap(page) -> int:
    cell = page.locator(".timing-tower .tabulator-row").first.locator('[tabulator-field="Lap"]')
    return int(cell.inner_text())


def _our_tracebacks(server) -> list[str]:
    """Tracebacks through the project's code (a closing tab can make Tornado log its own WebSocketClosedError)."""
    return [t for t in server.log().split("Traceback")[1:] if str(REPO / "workbench") in t]


_MAX_LAP_JS = """(name) => {
    const doc = Bokeh.documents[0];
    let best = -1;
    for (const m of doc._all_models.values())
        if (m.name === name) for (const lap of m.data.lap) best = Math.max(best, lap);
    return best;
}"""


def test_live_page_tower_advances_lap_by_lap(server, browser, screenshot_dir):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(server.base + "/")
        page.wait_for_selector(".timing-tower .tabulator-row", timeout=LOAD_TIMEOUT_MS)
        for selector in (".telemetry-trace", ".car-twin", ".field-twin", ".health-strip", ".mc-caption"):
            page.wait_for_selector(selector, timeout=LOAD_TIMEOUT_MS)
        seen = [_leader_lap(page)]

        def four_laps_seen() -> bool:
            lap = _leader_lap(page)
            if lap != seen[-1]:
                seen.append(lap)
            return len(seen) >= 4

        wait_until(four_laps_seen, 180, lambda: f"the tower to advance: laps seen {seen}", step_s=0.2)
        assert all(b > a for a, b in zip(seen, seen[1:])), seen
        # the streamed lap and gap charts keep up with the tower in the browser itself
        for name in ("lap-chart-source", "gap-chart-source"):
            charted = page.evaluate(_MAX_LAP_JS, name)
            assert charted >= seen[-1] - 1, (name, charted, seen)
        assert not errors, errors
        views = _views(server)
        assert views["sessions"] >= 1 and views["refreshing_pages"] >= 1, views
    finally:
        page.close()


def _tower_rows(page) -> list[str]:
    cells = page.locator('.timing-tower .tabulator-row [tabulator-field="Pos"]')
    return [c.strip() for c in cells.all_inner_texts()]


def test_the_tower_is_one_consistent_order_while_cars_cross_the_line(server, browser):
    """Positions are 1..N without a gap or a repeat at every look; retired cars read OUT, below the order."""
    page = browser.new_page()
    try:
        page.goto(server.base + "/")
        page.wait_for_selector(".timing-tower .tabulator-row", timeout=LOAD_TIMEOUT_MS)
        looks, laps = [], set()

        def look() -> bool:
            """One look at the tower and the REST field; True once 40 looks span 3 laps (or one is wrong)."""
            pos = _tower_rows(page)
            running = [p for p in pos if p != "OUT"]
            rows = server.get("/api/v1/field-twin").json()["field_twin"]["cars"]
            places = [r["position"] for r in rows if r["status"] != "OUT"]
            looks.append((pos, places, [(r["position"], r["gap_to_leader_s"]) for r in rows if r["status"] == "OUT"]))
            laps.add(_leader_lap(page))
            consistent = (pos == running + ["OUT"] * (len(pos) - len(running)) and len(pos) == 20
                          and [int(p.split()[0]) for p in running] == list(range(1, len(running) + 1))
                          and places == list(range(1, len(places) + 1))
                          and all(out == (None, None) for out in looks[-1][2]))
            return not consistent or (len(looks) >= 40 and len(laps) >= 3)

        wait_until(look, 120, lambda: f"40 looks over 3 laps: {len(looks)} looks, laps {sorted(laps)}", step_s=0.25)
        pos, places, out = looks[-1]
        running = [p for p in pos if p != "OUT"]
        assert pos == running + ["OUT"] * (len(pos) - len(running)), pos
        assert [int(p.split()[0]) for p in running] == list(range(1, len(running) + 1)), pos
        assert len(pos) == 20, pos
        assert places == list(range(1, len(places) + 1)), places
        assert all(o == (None, None) for o in out), out
        assert len(looks) >= 40 and len(laps) >= 3, (len(looks), laps)
    finally:
        page.close()


def test_recommendation_card_appears_after_our_pit_window_opens(server, browser, screenshot_dir):
    page = browser.new_page()
    try:
        page.goto(server.base + "/")
        page.wait_for_selector(".timing-tower .tabulator-row", timeout=LOAD_TIMEOUT_MS)

        def window_open():
            car = server.get("/api/v1/car-twin").json()["car_twin"]
            first, last = car["pit_window_earliest_lap"], car["pit_window_latest_lap"]
            return first is not None and last is not None and first <= car["lap"] + 1 <= last

        wait_until(window_open, 300, "our pit window to open", step_s=0.5)
        card = page.locator(".rec-card").first
        card.wait_for(timeout=LOAD_TIMEOUT_MS)
        text = card.inner_text()
        assert "explained by" in text
        groups = page.locator(".recommendations h4").all_inner_texts()
        assert groups and set(groups) <= {"Urgent", "Moderate", "Optional"}, groups
        # open the card's numbers and read them in one step: a new decision (every lap) re-renders the cards
        opened = wait_until(lambda: page.locator(".rec-card").first.evaluate(
            "c => { const d = c.querySelector('details'); if (d) d.open = true; return c.innerText; }"),
            60, "a recommendation card with its numbers", step_s=0.5)
        assert "expected_final_position" in opened, opened
        page.wait_for_selector(".mc-caption b", timeout=LOAD_TIMEOUT_MS)
        page.wait_for_selector(".race-prediction .prediction-caption", timeout=LOAD_TIMEOUT_MS)  # finish prediction
        page.screenshot(path=str(screenshot_dir / "race-page.png"))  # viewport only: full-page breaks Tabulator
    finally:
        page.close()


def test_whatif_run_completes_changes_the_plot_and_shares_its_url(server, browser, screenshot_dir):
    page = browser.new_page()
    try:
        page.goto(server.base + "/whatif?runs=1000&deg=1.0")
        page.wait_for_selector('.whatif-done[data-run="1"]', timeout=LOAD_TIMEOUT_MS)
        plot = page.locator(".whatif-plot")
        before_png, before_summary = plot.screenshot(), page.locator(".whatif-summary table").inner_text()
        lap = int(server.get("/api/v1/environment").json()["environment"]["leader_lap"])
        sc_lap = min(lap + 8, 50)
        box = page.locator(".whatif-sc_from_lap input")
        box.fill(str(sc_lap))
        box.press("Enter")
        page.locator(".whatif-degradation_scale").wait_for()
        page.locator(".whatif-run button").click()
        page.wait_for_selector('.whatif-done[data-run="2"]', timeout=LOAD_TIMEOUT_MS)
        status = page.locator(".whatif-done").inner_text()
        assert f"SC laps {sc_lap}-" in status, status
        assert page.locator(".whatif-summary table").inner_text() != before_summary
        assert plot.screenshot() != before_png, "the what-if plot did not change"
        assert f"sc={sc_lap}" in page.url, page.url  # the scenario is in the URL: shareable
        page.screenshot(path=str(screenshot_dir / "whatif-page.png"), full_page=True)
        shared = browser.new_page()
        try:
            shared.goto(page.url)
            shared.wait_for_selector('.whatif-done[data-run="1"]', timeout=LOAD_TIMEOUT_MS)
            assert f"SC laps {sc_lap}-" in shared.locator(".whatif-done").inner_text()
        finally:
            shared.close()
    finally:
        page.close()


def test_a_bad_whatif_input_is_reported_not_raised(server, browser):
    page = browser.new_page()
    try:
        page.goto(server.base + "/whatif?pit=12,x&tyres=HARD")
        error = page.locator(".whatif-error")
        error.wait_for(timeout=LOAD_TIMEOUT_MS)
        assert "pit_laps[1]: 'x' is not a lap number" in error.inner_text()
    finally:
        page.close()
    assert _our_tracebacks(server) == []


@pytest.fixture(scope="module")
def calm_server(tmp_path_factory):
    """A slower replay (2x) for the session-count test: it checks leaks, not load."""
    with ServerProcess("--seed", "3", "--speed", "2", "--strategy-runs", "500",
                       tmp_path=tmp_path_factory.mktemp("ui-calm")) as srv:
        yield srv


def test_twenty_sessions_opened_and_closed_return_to_baseline(calm_server, browser):
    server = calm_server

    last: list[dict] = []

    def settled():
        """The view counts, once two reads a second apart agree."""
        now = _views(server)
        steady = last and last[-1] == now
        last.append(now)
        return now if steady else None

    baseline = wait_until(settled, 60, "a steady session count", step_s=1.0)
    pages = []
    try:
        for _ in range(20):
            page = browser.new_page()
            pages.append(page)
            page.goto(server.base + "/")
        opened = wait_until(lambda: (v := _views(server))["sessions"] >= baseline["sessions"] + 20 and v, 120,
                            "20 more sessions", step_s=0.5)
        assert opened["sessions"] == baseline["sessions"] + 20, (baseline, opened)
        assert opened["refreshing_pages"] == baseline["refreshing_pages"] + 20, (baseline, opened)
        assert opened["periodic_callbacks"] >= baseline["periodic_callbacks"] + 20, (baseline, opened)
        assert opened["hub_subscribers"] == baseline["hub_subscribers"] + 20, (baseline, opened)  # one per page
    finally:
        for page in pages:
            page.close()
    wait_until(lambda: _views(server) == baseline, 120, f"sessions and callbacks back to {baseline}", step_s=0.5)
    assert _our_tracebacks(server) == []


def _external_requests(page, base: str) -> list[str]:
    """Collects every request the page makes outside the app's own server (a CDN, a web font)."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None)
    return seen


@pytest.mark.parametrize("path, active", [("/", "Race"), ("/whatif?runs=500", "What if")])
def test_both_pages_share_the_template_offline(server, browser, path, active):
    page = browser.new_page()
    external = _external_requests(page, server.base)
    try:
        page.goto(server.base + path)
        page.wait_for_selector(".rt-nav a", timeout=LOAD_TIMEOUT_MS)
        assert page.locator("#header .title").first.inner_text().strip() == "Race Twin Edge"
        links = page.locator(".rt-nav a")
        assert links.all_inner_texts() == ["Race", "What if", "API"]
        assert [links.nth(i).get_attribute("href") for i in range(3)] == ["/", "/whatif", "/api/v1/docs"]
        assert page.locator(".rt-nav a.active").inner_text() == active
        page.locator("#theme-switch").wait_for(timeout=LOAD_TIMEOUT_MS)  # the light/dark toggle
        light = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        page.goto(server.base + path + ("&" if "?" in path else "?") + "theme=dark")
        page.wait_for_selector(".rt-nav a", timeout=LOAD_TIMEOUT_MS)
        dark = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert (light, dark) == ("rgb(255, 255, 255)", "rgb(24, 24, 24)"), (light, dark)
        page.wait_for_load_state("networkidle")  # late stylesheets of components added after the first render
        assert external == [], f"{path} fetched from outside the app: {external[:5]}"
    finally:
        page.close()


def test_api_docs_page_is_generated_from_openapi_and_offline(server, browser):
    openapi = server.get("/api/v1/openapi.json").json()
    response = httpx.get(f"{server.base}/api/v1/docs", timeout=60)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = browser.new_page()
    external = _external_requests(page, server.base)
    try:
        page.goto(server.base + "/api/v1/docs")
        assert page.locator("nav.pages a").all_inner_texts() == ["Race", "What if", "API"]
        headings = page.locator("section.op h3").all_inner_texts()
        expected = {f"{method.upper()}{path}" for path, ops in openapi["paths"].items() for method in ops}
        assert {h.replace(" ", "").replace("\n", "") for h in headings} == expected
        for name in openapi["components"]["schemas"]:
            assert page.locator(f"section.schema h3 code:text-is('{name}')").count() == 1, name
        page.locator("nav.pages a", has_text="What if").click()
        page.wait_for_selector(".rt-nav a.active", timeout=LOAD_TIMEOUT_MS)
        assert page.locator(".rt-nav a.active").inner_text() == "What if"
        assert external == [], external[:5]
    finally:
        page.close()

