"""Start-up economies for short-lived commands (``isp check``).

``isp check`` must start within 2.5x of ``python -c "import pydantic"``. Building the
first pydantic model asks pydantic for plugins, and pydantic's plugin loader imports
``importlib.metadata`` (some 40 modules, about 15 ms here) only to look for them.
The check path uses no pydantic plugins, so it registers a loader that finds none:
the behaviour pydantic documents for ``PYDANTIC_DISABLE_PLUGINS=__all__``, without
the import. Long-running parts (the store, Prefect flows) do not call this.
"""

from __future__ import annotations

import sys
import types

LOADER = "pydantic.plugin._loader"


def without_pydantic_plugins() -> bool:
    """Let pydantic find no plugins in this process, if it has not looked yet.

    Returns whether the loader was replaced (False when pydantic already loaded its own).
    """
    if LOADER in sys.modules:
        return False
    loader = types.ModuleType(LOADER)
    loader.__doc__ = "No pydantic plugins (isp_lifecycle._startup)."
    loader.get_plugins = _no_plugins
    sys.modules[LOADER] = loader
    return True


def _no_plugins() -> tuple[()]:
    return ()
