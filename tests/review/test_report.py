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


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

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


def test_the_report_asks_for_nothing_outside_the_file(two_reviews, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ISP_WEB_URL", raising=False)
    html = write_report(tmp_path, capsys)
    outside = re.findall(r"""(?:src|href|action)\s*=|url\(|@import|<script|<link|<img|<iframe""", html, re.I)
    assert outside == []
    assert re.findall(r"https?://[^\s\"'<>]+", html) == []
    assert "<style>" in html and ".cards>li{" in html  # the pages' stylesheet, inline


def test_under_isp_web_url_the_report_links_to_the_partnership_pages_and_nowhere_else(two_reviews, tmp_path, capsys,
                                                                                       monkeypatch):
    monkeypatch.setenv("ISP_WEB_URL", "https://isp.mission.example.org/")
    html = write_report(tmp_path, capsys)
    links = re.findall(r'href="([^"]*)"', html)
    assert "https://isp.mission.example.org/partnerships/ke-water-kisumu" in links
    assert all(re.fullmatch(r"https://isp\.mission\.example\.org/partnerships/[a-z0-9-]+", link) for link in links)
    assert re.findall(r"""src\s*=|url\(|@import|<script|<link|<img|<iframe|<form""", html, re.I) == []


def test_the_report_shows_the_trend_what_changed_failing_principles_and_what_to_do(two_reviews, tmp_path, capsys):
    html = write_report(tmp_path, capsys)
    text = _text(html)
    assert "Portfolio review as of 1 September 2027" in text and "compared with the review of 1 August 2027" in text
    assert "Review of 1 Sep 1 Aug Reviewed 7 6" in text  # the totals per review, newest first
    assert "1 more reviewed" in text  # one more partnership reviewed than on 1 August
    assert "Principles most often blocking" in text and ">convene-stakeholders<" in html
    assert "What to do: " in text and "ke-water-kisumu" in text
    assert "No finding: every condition of the handbook this gate checks is met." in text  # gh-healthy
    assert "1 closed partnership is not reviewed: Northern Ghana Maternal and Newborn Health Partnership gh-closed" in text
    assert "<script>alert(1)</script>" not in html and "Tamale &lt;script&gt;" in html


def _cards(html: str) -> list[tuple[str, int]]:
    """(partnership, how urgent: 0 a decision waits, 1 a blocked gate, 2 alerts, 3 nothing) in the order listed."""
    out = []
    for card in html.split('<span class="title">')[1:]:
        card = card[:card.index("\n  </li>")]
        pid = re.search(r'<span class="slug">([^ ]+) ', card).group(1)
        urgency = 0 if "decision waiting" in card else 1 if "blocking</span>" in card.split("marks")[0] else (
            2 if '<ul class="findings">\n<li>' in card.split("marks")[0] else 3)
        out.append((pid, urgency))
    return out


def test_the_report_puts_what_needs_attention_first_in_human_words_with_the_slug_beside(two_reviews, tmp_path, capsys):
    html = write_report(tmp_path, capsys)
    cards = _cards(html)
    assert len(cards) == 7 and cards[0] == ("gh-waiting", 0)
    assert [u for _, u in cards] == sorted(u for _, u in cards) and {1, 2} <= {u for _, u in cards}
    assert "Too long in one stage" in html and '<span class="slug">stage-overdue</span>' in html
    assert not re.search(r"-\d+ day", html)


def test_an_earlier_review_can_be_reported_and_a_missing_one_is_bad_usage(two_reviews, tmp_path, capsys):
    html = write_report(tmp_path, capsys, "--as-of", "2027-08-01")
    assert "Portfolio review as of 1 August 2027" in html and "the first on record" in html
    assert main(["report", "--as-of", "2020-01-01", "--out", str(tmp_path / "x.html")]) == 2
    assert "run `isp review` first" in capsys.readouterr().err


def test_a_review_dated_before_a_partnership_entered_its_stage_reads_moved_after_not_minus_days(store, tmp_path,
                                                                                                 capsys):
    load_portfolio(store)
    review.run_review(store, date(2020, 1, 1))  # before every stage_entered of the portfolio
    text = _text(write_report(tmp_path, capsys))
    assert "moved after this review's date" in text
    assert not re.search(r"-\d+ day|for today", text)


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
