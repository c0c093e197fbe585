"""The HTML report of a portfolio review: the portfolio page's content, in one self-contained
file (its CSS inlined; no script, no font, no image, nothing fetched), readable from disk.

    render(store, as_of=None, mission=None, web_url=...) -> (html, as_of of the review reported)

It reads a complete review (the latest one when ``as_of`` is not given; ``review_results``
says which, or why there is none) and renders ``portfolio_page.review_content`` through the
web's own templates (``web/templates/_portfolio.html`` and its macros: the same order, words
and trends as the portfolio page), inside ``templates/report.html``, which inlines the pages'
stylesheet. Jinja2 autoescapes every value a partnership document supplies. The report links
to the partnership pages only under ``ISP_WEB_URL`` (``web_url``); without it, it links nowhere.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

from . import portfolio_page, review_results
from .store import Store

MAX_LISTED = 1000  # partnerships listed, needs attention first, with their findings; the counts cover every one
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
WEB_TEMPLATES = HERE / "web" / "templates"  # read as files: the core imports nothing of the web layer
STYLESHEET = HERE / "web" / "static" / "pages.css"
_UNSET = object()


def days(n: int) -> str:
    """The pages' own words for a number of days."""
    return "today" if n < 1 else ("1 day" if n == 1 else f"{n} days")


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    from .notifications.render import FILTERS  # the same words as the pages and the messages

    env = jinja2.Environment(loader=jinja2.FileSystemLoader([TEMPLATES, WEB_TEMPLATES]), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    env.filters["days"] = days
    return env


def _stylesheet():
    from markupsafe import Markup

    css = STYLESHEET.read_text(encoding="utf-8")
    if "</" in css:  # it goes inside <style>: our own file, but never let it close the element
        raise ValueError(f"{STYLESHEET} holds '</'")
    return Markup(css)


def render(store: Store, *, as_of: date | None = None, mission: str | None = None,
           web_url: str | None | object = _UNSET) -> tuple[str, date]:
    if web_url is _UNSET:
        from .settings import current

        web_url = current().web_url_value
    review, _previous = review_results.complete_reviews(store, as_of, mission)
    content = portfolio_page.review_content(store, review.review_id, limit=MAX_LISTED)
    html = _environment().get_template("report.html").render(
        css=_stylesheet(), links=web_url, paged=False, mission="", scope=mission or "every mission",
        written=datetime.now(timezone.utc).replace(tzinfo=None), **content)
    return html, review.as_of
