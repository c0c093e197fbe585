"""The HTTP service: the JSON API (``docs/spec/api.md``) over the same services as the CLI.

No logic of its own beyond HTTP: routes translate requests into ``isp_lifecycle.access``
calls, ``errors`` maps every error to a status in one table, ``guard`` caps bodies and adds
the security headers. Stateless over the store, so several copies can serve one PostgreSQL.
"""

from __future__ import annotations

from fastapi import FastAPI

from ..settings import Settings


def create_app(settings: Settings | None = None, store=None) -> FastAPI:
    """The application; ``store`` defaults to the one the settings name (opened here)."""
    from .. import access, settings as settings_module
    from ..store import Store
    from . import api, errors, pages, pages_partnership
    from .clock import Clock
    from .guard import Guard

    settings = settings or settings_module.current()
    store = store or Store.open(settings.database_url)
    service = access.Access(store, settings)
    app = FastAPI(title="isp-lifecycle", version="1", openapi_url="/api/v1/openapi.json", docs_url=None,
                  redoc_url=None, swagger_ui_oauth2_redirect_url=None)
    app.state.access = service
    app.state.store_clock = Clock(service.clock)  # one reading of the store's clock for every read waiting
    errors.install(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(pages_partnership.router)
    from . import pages_lessons

    app.include_router(pages_lessons.router)  # the lessons register (issue 19)
    from . import pages_assessment

    app.include_router(pages_assessment.router)  # the partners' assessment form (docs/assessments.md)
    from . import signin

    signin.install(app)  # sign-in pages, sessions and single sign-on (issue 15)

    def store_up() -> bool:
        try:
            service.health()
        except Exception:  # any failure to reach it is "down"
            return False
        return True

    app.add_middleware(Guard, store_up=store_up)
    return app
