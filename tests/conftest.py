import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Keep the rule-pack cache of test runs out of the user's home.
os.environ.setdefault("XDG_CACHE_HOME", str(ROOT / ".pytest_cache" / "xdg"))


@pytest.fixture(scope="session")
def pack():
    from isp_lifecycle.rulepack import load_pack

    return load_pack()


@pytest.fixture(scope="session")
def base_and_cases(pack):
    from isp_lifecycle.cases import load_cases

    return load_cases(pack.root, pack)
