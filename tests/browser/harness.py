"""A real browser for the page tests: Debian's Chromium driven by Selenium through chromedriver.

What the pages promise (docs/spec/api.md, "Pages") is checked here the way a person meets it:
at 390 px wide, with JavaScript on or off, with only the keyboard; and what a browser alone can
tell us: accessibility (axe-core, injected into the page), bytes really transferred, requests to
other origins, Content-Security-Policy violations the browser reported.

Every browser starts with a fresh profile and without the background traffic Chromium makes on
its own (sync, component updates, field trials), so the network log holds only the page's own.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PHONE = (390, 844)
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--disable-features=Translate,OptimizationHints,MediaRouter", "--hide-scrollbars")


def available() -> str | None:
    """Why the browser tests cannot run here, or None (``.ci/run`` installs all of it)."""
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            return f"{what} is not installed ({path}); .ci/run installs it"
    if not AXE.exists():
        return "axe-core is not installed: run `npm ci` in tests/browser"
    return None


@dataclass
class Load:
    """What one navigation cost: bytes received (as transferred, compressed) and every URL asked."""

    transferred: int = 0
    urls: list[str] = field(default_factory=list)

    def other_origins(self, origin: str) -> list[str]:
        return [u for u in self.urls if _origin(u) != origin and not u.startswith(("data:", "about:"))]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Browser:
    """One Chromium with its own profile. ``javascript=False`` starts it with script disabled."""

    def __init__(self, *, javascript: bool = True, size: tuple[int, int] = PHONE) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="isp-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.add_argument(f"--window-size={size[0]},{size[1]}")
        if not javascript:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.set_page_load_timeout(30)
        self.javascript = javascript
        self.phone(size)

    # ------------------------------------------------------------------ navigation

    def phone(self, size: tuple[int, int] = PHONE) -> None:
        """A viewport exactly ``size`` CSS pixels wide. Not Chromium's "mobile" emulation: that one
        widens the layout viewport to fit wide content, which would hide the sideways scrolling
        this width is there to catch."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})

    def open(self, url: str) -> Load:
        """Navigate and return what the navigation transferred."""
        self.network()  # drop what came before
        self.driver.get(url)
        return self.network()

    def network(self) -> Load:
        """Bytes and URLs of the responses since the last call (the performance log drains)."""
        load, sizes = Load(), {}
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent":
                load.urls.append(params["request"]["url"])
            elif message["method"] == "Network.loadingFinished":
                sizes[params["requestId"]] = params.get("encodedDataLength", 0)
        load.transferred = sum(sizes.values())
        return load

    @property
    def url(self) -> str:
        return self.driver.current_url

    def text(self) -> str:
        return self.driver.find_element("tag name", "body").text

    def submit(self, button_text: str, **fields: str) -> None:
        """Fill named fields and click the button whose text is ``button_text`` (a mouse user)."""
        for name, value in fields.items():
            element = self.driver.find_element("name", name)
            element.clear()
            element.send_keys(value)
        self.navigating(self.button(button_text).click)

    def navigating(self, action, timeout: float = 20) -> None:
        """Do ``action`` (a click, a key) and wait until the page it leads to has loaded."""
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        old = self.driver.find_element("tag name", "html")
        action()
        wait = WebDriverWait(self.driver, timeout)
        wait.until(lambda driver: _left_the_document(old))
        wait.until(ec.presence_of_element_located(("tag name", "body")))

    def button(self, text: str):
        for element in self.driver.find_elements("css selector", "button, input[type=submit]"):
            if (element.text or element.get_attribute("value") or "").strip() == text:
                return element
        raise AssertionError(f"no button {text!r} on {self.url}: {self.text()[:400]}")

    # ------------------------------------------------------------------ keyboard only

    def tab_to(self, predicate, limit: int = 80):
        """Press Tab until the focused element satisfies ``predicate``; return it."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        for _ in range(limit):
            ActionChains(self.driver).send_keys(Keys.TAB).perform()
            focused = self.driver.switch_to.active_element
            if predicate(focused):
                return focused
        raise AssertionError(f"{limit} presses of Tab never reached the element on {self.url}")

    def type_keys(self, *keys: str, navigates: bool = False) -> None:
        """Type into the focused element; ``navigates``: the last key submits, wait for the next page."""
        from selenium.webdriver.common.action_chains import ActionChains

        press = ActionChains(self.driver).send_keys(*keys).perform
        self.navigating(press) if navigates else press()

    # ------------------------------------------------------------------ checks

    def sideways_overflow(self) -> tuple[int, int]:
        """(scroll width of the page, width of the viewport): equal when nothing scrolls sideways."""
        return tuple(self.driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"))

    def axe(self, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
        """axe-core's violations of the given impacts on the current page.

        The script is evaluated by the driver (DevTools), which the page's CSP does not govern, and
        needs JavaScript: with it disabled in the profile, the caller opens the page in a JS browser.
        """
        self.driver.execute_script(AXE.read_text(encoding="utf-8"))
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)),"
            " e => done(JSON.stringify({error: String(e)})));")
        violations = json.loads(result)
        if isinstance(violations, dict):
            raise AssertionError(f"axe-core failed: {violations['error']}")
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n["html"][:200] for n in v["nodes"][:5]]}
                for v in violations if v.get("impact") in impacts]

    def csp_violations(self) -> list[str]:
        """The Content-Security-Policy violations Chromium reported on its console since last asked."""
        return [e["message"] for e in self.driver.get_log("browser")
                if "Content Security Policy" in e["message"] or "Content-Security-Policy" in e["message"]]

    def screenshot(self, path: Path) -> Path:
        """The whole page (its full height) at the current width, as PNG."""
        path.parent.mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        width = self.driver.execute_script("return window.innerWidth")
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": max(int(height), 200), "deviceScaleFactor": 1, "mobile": False})
        try:
            path.write_bytes(self.driver.get_screenshot_as_png())
        finally:
            self.phone((width, PHONE[1]))
        return path

    def framed(self, host_url: str, url: str) -> str:
        """Where an ``<iframe>`` pointed at ``url`` ended up, inside a page at ``host_url`` (another
        origin): ``url`` itself when the page let itself be framed, Chromium's error page when not."""
        import time

        self.driver.get(host_url)
        self.driver.execute_script(
            "const f = document.createElement('iframe'); f.id = 'probe'; f.src = arguments[0];"
            "document.body.appendChild(f);", url)
        time.sleep(1.0)  # the frame's load (or refusal) sends no event the host page can see
        self.driver.switch_to.frame(self.driver.find_element("id", "probe"))
        try:
            return self.driver.execute_script("return location.href")
        finally:
            self.driver.switch_to.default_content()

    def clear_cookies(self) -> None:
        self.driver.delete_all_cookies()

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def _left_the_document(element) -> bool:
    """True once ``element`` belongs to a page that has been replaced.

    Selenium's ``staleness_of`` expects a StaleElementReferenceException; Chromium may instead
    answer a query that races the navigation with "Node with given id does not belong to the
    document" (seen with Chromium 156), which means the same thing.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error) or "No node with given id" in str(error):
            return True
        raise
    return False

