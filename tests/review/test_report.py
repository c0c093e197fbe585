"""``isp report``: one self-contained HTML file that reads well from disk, in a real browser."""

import asyncio
import json
import re
import shutil
import subprocess
import time
import urllib.request
from datetime import date

import pytest

from isp_lifecycle import review
from isp_lifecycle.cli import main

from ..prefect_server import free_port
from .conftest import variant
from .test_review import load_portfolio

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def two_reviews(store):
    load_portfolio(store)
    services_doc = variant(id="gh-odd-name", name="Tamale <script>alert(1)</script> & Co")
    from isp_lifecycle import services

    review.run_review(store, date(2027, 8, 1))
    services.import_document(store, services_doc)
    review.run_review(store, date(2027, 9, 1))
    return store


def write_report(tmp_path, capsys, *args):
    out = tmp_path / "report.html"
    assert main(["report", "--out", str(out), *args]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    return out.read_text(encoding="utf-8")


def test_the_report_asks_for_nothing_outside_the_file(two_reviews, tmp_path, capsys):
    html = write_report(tmp_path, capsys)
    outside = re.findall(r"""(?:src|href|action)\s*=|url\(|@import|<script|<link|<img|<iframe""", html, re.I)
    assert outside == []
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}  # a namespace, not a fetch


def test_the_report_shows_stages_failing_principles_the_trend_and_what_to_do(two_reviews, tmp_path, capsys):
    html = write_report(tmp_path, capsys)
    assert "Portfolio review as of 2027-09-01" in html and "compared with the review of 2027-08-01" in html
    assert "Portfolio by stage" in html and html.count("<svg") == 2
    assert "Principles most often failing" in html and ">convene-stakeholders<" in html
    assert "▲ 1 since last review" in html  # one more partnership reviewed than on 2027-08-01
    assert "What to do: " in html and "ke-water-kisumu" in html
    assert "gh-healthy" in html and "Nothing to do: ready for its gate, no alert." in html
    assert "Closed (not reviewed): " in html and "(gh-closed)" in html
    assert "<script>alert(1)</script>" not in html and "Tamale &lt;script&gt;" in html


def test_an_earlier_review_can_be_reported_and_a_missing_one_is_bad_usage(two_reviews, tmp_path, capsys):
    html = write_report(tmp_path, capsys, "--as-of", "2027-08-01")
    assert "Portfolio review as of 2027-08-01" in html and "the first review on record" in html
    assert main(["report", "--as-of", "2020-01-01", "--out", str(tmp_path / "x.html")]) == 2
    assert "run `isp review` first" in capsys.readouterr().err


# ------------------------------------------------------------------ in a real browser

needs_chromium = pytest.mark.skipif(
    not shutil.which("chromium") and not __import__("os").path.exists("/usr/bin/chromium"),
    reason="chromium is not installed (Debian package `chromium`; .ci/run installs it)",
)


async def _open_and_listen(ws_url: str, page_url: str) -> tuple[list[str], list[str]]:
    import websockets

    requests, problems = [], []
    async with websockets.connect(ws_url, max_size=None) as ws:
        ids = iter(range(1, 1000))

        async def send(method, **params) -> int:
            number = next(ids)
            await ws.send(json.dumps({"id": number, "method": method, "params": params}))
            return number

        for domain in ("Runtime", "Log", "Network", "Page"):
            await send(f"{domain}.enable")
        await send("Page.navigate", url=page_url)
        loaded_at, asked_at, probes = None, 0.0, set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = time.monotonic()
            if loaded_at and now - loaded_at > 1.0:
                break  # a second after load, for anything fetched late
            if not loaded_at and now - asked_at > 1.0:  # a missed load event must not hang the test
                probes.add(await send("Runtime.evaluate", expression="document.readyState + ' ' + location.href"))
                asked_at = now
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.5))
            except asyncio.TimeoutError:
                continue
            method, params = message.get("method"), message.get("params", {})
            if message.get("id") in probes:
                if message.get("result", {}).get("result", {}).get("value") == f"complete {page_url}":
                    loaded_at = loaded_at or time.monotonic()
            elif method == "Network.requestWillBeSent":
                requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
                problems.append(f"console.{params['type']}: {params['args']}")
            elif method == "Runtime.exceptionThrown":
                problems.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                problems.append(f"log: {params['entry']['text']}")
            elif method == "Page.loadEventFired":
                loaded_at = loaded_at or time.monotonic()
        assert loaded_at, "the page never finished loading"
    return requests, problems


def devtools_page(port: int, proc) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "chromium exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                pages = [t for t in json.load(r) if t["type"] == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("chromium's DevTools endpoint did not come up")


@pytest.mark.slow
@needs_chromium
def test_in_headless_chromium_the_report_loads_with_no_console_error_no_request_and_paints_a_real_page(
    two_reviews, tmp_path, capsys
):
    from PIL import Image

    write_report(tmp_path, capsys)
    page = (tmp_path / "report.html").as_uri()
    port = free_port()
    proc = subprocess.Popen([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                             f"--remote-debugging-port={port}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        requests, problems = asyncio.run(_open_and_listen(devtools_page(port, proc), page))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert requests == [page]  # the file itself, and nothing else
    assert problems == []

    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile-shot'}",
                    f"--screenshot={shot}", "--window-size=1280,2000", page],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=True)
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2000)
    colours = image.getcolors(maxcolors=1 << 24)
    assert len(colours) > 200, "the screenshot is (nearly) blank"
    commonest = max(n for n, _ in colours)
    assert commonest < 0.8 * 1280 * 2000, "one colour covers most of the page"
