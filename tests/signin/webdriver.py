"""Real Chromium for the sign-in pages, driven through chromedriver's W3C WebDriver protocol
(plain HTTP, so no client library is needed): ``Browser`` starts both and ends both."""

from __future__ import annotations

import shutil
import subprocess
import time

import httpx

from .live import free_port

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class Browser:
    def __init__(self) -> None:
        driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        self.port = free_port()
        self.driver = subprocess.Popen([driver, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.http.get("/status").json()["value"]["ready"]:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        options = {"binary": shutil.which("chromium") or "/usr/bin/chromium",
                   "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=390,844"]}
        answer = self.http.post("/session", json={"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})
        self.session = answer.json()["value"]["sessionId"]

    def _call(self, method: str, path: str, body: dict | None = None):
        answer = self.http.request(method, f"/session/{self.session}{path}", json=body)
        value = answer.json()["value"]
        if answer.status_code != 200:
            raise AssertionError(f"WebDriver {path}: {value.get('message', value)}")
        return value

    def go(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def find(self, css: str) -> str:
        found = self._call("POST", "/element", {"using": "css selector", "value": css})
        assert ELEMENT in found, (css, found, self.url)
        return found[ELEMENT]

    def type(self, css: str, text: str) -> None:
        self._call("POST", f"/element/{self.find(css)}/value", {"text": text})

    def click(self, css: str) -> None:
        self._call("POST", f"/element/{self.find(css)}/click", {})

    def arrive(self, url: str, seconds: float = 20) -> str:
        """Wait until the page is at ``url`` (a click's navigation may still be under way)."""
        deadline = time.monotonic() + seconds
        while not self.url.startswith(url):
            if time.monotonic() > deadline:
                raise AssertionError(f"the browser is at {self.url}, not {url}")
            time.sleep(0.05)
        self._call("POST", "/execute/async", {"script": "arguments[0]()", "args": []})  # the page has loaded
        return self.url

    def shows(self, text: str, seconds: float = 20) -> str:
        """Wait until the page holds ``text``; return the page."""
        deadline = time.monotonic() + seconds
        while text not in (page := self.html):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never showed at {self.url}: {page[:500]}")
            time.sleep(0.05)
        return page

    @property
    def url(self) -> str:
        return self._call("GET", "/url")

    @property
    def html(self) -> str:
        return self._call("GET", "/source")

    def cookies(self) -> dict[str, dict]:
        return {c["name"]: c for c in self._call("GET", "/cookie")}

    def close(self) -> None:
        try:
            self.http.delete(f"/session/{self.session}")
        finally:
            self.http.close()
            self.driver.terminate()
            self.driver.wait(timeout=20)
