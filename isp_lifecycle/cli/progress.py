"""Progress over many items, for people at a terminal and quiet for scripts.

``Progress(total, label)`` shows a bar on standard error when standard error is a terminal
and there are more than ``SHOWN_FROM`` items; piped, or for a few items, it shows nothing.
Lines said through it (``out``, ``err``) never break the bar: an error line clears the bar's
line first, and while the bar is shown on the same terminal as standard output, the
per-item lines of standard output give way to the ``summary`` printed at the end (a script
reading standard output through a pipe still gets every line).
"""

from __future__ import annotations

import sys

import click

from ..encoding import terminal

SHOWN_FROM = 300  # items: below this a command is over before a bar would tell anything


class Progress:
    def __init__(self, total: int, label: str, *, shown_from: int = SHOWN_FROM) -> None:
        self.bar = None
        if total > shown_from and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, show_eta=True,
                                         item_show_func=lambda item: item)
        self.quiet_out = self.bar is not None and sys.stdout.isatty()

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def update(self, done: int, item: str | None = None) -> None:
        """``done`` more items; ``item``, if given, is shown after the bar until the next update."""
        if self.bar is not None:
            self.bar.update(done, item)

    def out(self, line: str) -> None:
        """A per-item line of standard output (left out while the bar shares the terminal)."""
        if not self.quiet_out:
            click.echo(line)

    def err(self, line: str) -> None:
        """A line on standard error, above the bar when one is shown."""
        if self.bar is not None:
            click.echo("\r\x1b[K", nl=False, err=True)
        click.echo(terminal(line), err=True)

    def summary(self, line: str) -> None:
        """The closing line, printed when the per-item lines were left out."""
        if self.quiet_out:
            click.echo(line)
