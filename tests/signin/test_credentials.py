"""The token ``isp login`` keeps is the one later commands use: one file, one spelling of a service."""

from __future__ import annotations

import pytest

from isp_lifecycle import credentials
from isp_lifecycle.client import Client
from isp_lifecycle.settings import Settings


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ISP_TOKEN", raising=False)
    return tmp_path / "config"


def known(url: str, tmp_path) -> Client | None:
    return Client.known(Settings.from_env({"ISP_HOME": str(tmp_path / "home"), "ISP_URL": url}))


def test_a_command_uses_the_token_login_kept_for_its_service_however_isp_url_spells_it(config_home, tmp_path):
    assert credentials.save("http://localhost.example:8000", "isp_kept-token").is_relative_to(config_home)
    assert known("http://localhost.example:8000/", tmp_path) == Client("http://localhost.example:8000", "isp_kept-token")
    assert known("HTTP://LOCALHOST.example:8000", tmp_path).token == "isp_kept-token"


def test_without_a_kept_token_a_command_works_locally(config_home, tmp_path):
    credentials.save("http://127.0.0.1:8000", "isp_kept-token")
    assert known("http://127.0.0.1:9000", tmp_path) is None
    assert known("127.0.0.1:8000", tmp_path) is None  # not a service's address: nothing kept for it
