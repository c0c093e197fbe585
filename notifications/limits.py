"""Limits on rendering a message: time and output size, so that one template cannot stop delivery.

A user template runs in Jinja2's immutable sandbox (``render.environment``), which keeps it
away from Python internals but not from doing too much: ``{% for i in range(99999) %}`` nested
twice runs for hours, ``{{ 'a' * 1000000000 }}`` takes gigabytes. Each message gets a budget:

    MAX_SECONDS   seconds of rendering for its three parts (subject, text, HTML)
    MAX_OUTPUT    characters of output for the three together, and for any value computed
                  on the way (a string, a list)

Rendering is streamed (``Template.generate``) and counted; the sandbox subclass here checks
the clock at every call, attribute or item lookup, filter and loop step over ``range``, and
refuses before computing them the operations that would build a value over the size limit
(``*``, ``**``, ``+`` and ``%`` on big operands, widths and counts over it in calls and
filters). A template over its budget raises ``LimitExceeded``, which rendering reports as a
``TemplateProblem`` naming the limit: delivery marks that message failed and goes on, and
``isp notifications check-templates`` reports it before any message is sent.

Why not a separate process: delivery renders every message, and a process round trip per
message (or a pool to manage, kill and restart) costs more than the checks here. These checks
bound what the sandbox lets a template do, which is what ``ISP_TEMPLATES_DIR`` is trusted with.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_SECONDS = 2.0
MAX_OUTPUT = 1_000_000
MAX_EXPONENT_BITS = 4096  # ``**`` on numbers: results of at most this many bits
_WIDE = re.compile(r"\d{7,}")  # a width or precision of a million or more in a format string

_local = threading.local()


class LimitExceeded(Exception):
    """A template went over its time or output budget."""


class Budget:
    def __init__(self, seconds: float, output: int) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.output = output
        self.written = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"rendering took longer than the limit of {self.seconds:g} s")

    def size(self, value: Any) -> None:
        try:
            length = len(value) if isinstance(value, (str, bytes, list, tuple, dict, set)) else 0
        except TypeError:
            return
        if length > self.output:
            raise LimitExceeded(f"a value of {length:,} items is over the output limit of {self.output:,} characters")

    def wrote(self, chunk: str) -> None:
        self.written += len(chunk)
        if self.written > self.output:
            raise LimitExceeded(f"the message is over the output limit of {self.output:,} characters")


def _budget() -> Budget | None:
    return getattr(_local, "budget", None)


class _Watchdog:
    """The backstop of the time limit: a loop that makes no call (``{% for a in l %}{% for b in
    l %}{% endfor %}{% endfor %}`` over a long list) passes no check, so a timer raises
    ``LimitExceeded`` in the rendering thread when the budget is spent. Disarming takes the
    same lock as firing, and clears an exception fired but not yet raised, so it never
    escapes the ``with`` of ``budget``."""

    def __init__(self, seconds: float) -> None:
        self.thread_id = threading.get_ident()
        self.lock = threading.Lock()
        self.armed, self.fired = True, False
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self) -> None:
        with self.lock:
            if self.armed:
                self.fired = True
                _async_raise(self.thread_id, LimitExceeded)

    def disarm(self) -> None:
        with self.lock:
            self.armed = False
            self.timer.cancel()
            if self.fired:
                _async_raise(self.thread_id, None)


def _async_raise(thread_id: int, exc_type) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc_type) if exc_type else None)


@contextmanager
def budget(seconds: float | None = None, output: int | None = None, *, watchdog: bool = False) -> Iterator[Budget]:
    """The budget of one message (default ``MAX_SECONDS``, ``MAX_OUTPUT``), for the templates
    rendered inside the ``with``; with ``watchdog`` (untrusted templates) a timer enforces the
    time limit as a backstop."""
    seconds = MAX_SECONDS if seconds is None else seconds
    output = MAX_OUTPUT if output is None else output
    previous, _local.budget = _budget(), Budget(seconds, output)
    guard = _Watchdog(seconds) if watchdog else None
    try:
        yield _local.budget
    except LimitExceeded as exc:
        if not exc.args:  # raised by the watchdog, which cannot say why
            raise LimitExceeded(f"rendering took longer than the limit of {seconds:g} s") from None
        raise
    finally:
        if guard is not None:
            guard.disarm()
        _local.budget = previous


def render_parts(env, names: list[str], ctx: dict[str, Any], *, seconds: float | None = None,
                 output: int | None = None) -> list[str]:
    """Render the templates ``names`` with ``ctx`` under one budget, streaming and counting
    (with the watchdog when ``env`` is the sandbox of user templates)."""
    templates = [env.get_template(name) for name in names]  # compiling is not the template's time
    with budget(seconds, output, watchdog=isinstance(env, LimitedSandbox)) as spent:
        parts = []
        for template in templates:
            chunks = []
            for chunk in template.generate(ctx):
                spent.wrote(chunk)
                spent.tick()
                chunks.append(chunk)
            parts.append("".join(chunks))
        return parts


# ------------------------------------------------------------------ checks before computing

def _check_args(args: tuple, kwargs: dict) -> None:
    limit = _budget()
    if limit is None:
        return
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit.output:
            raise LimitExceeded(f"a count or width of {value:,} is over the output limit of {limit.output:,}")
        limit.size(value)


def _check_format(text: Any) -> None:
    if isinstance(text, str) and _WIDE.search(text) and _budget() is not None:
        raise LimitExceeded("a format width of a million or more is over the output limit")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    limit = _budget()
    if limit is None:
        return
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(count, int) and hasattr(seq, "__len__"):
                if len(seq) * max(count, 0) > limit.output:
                    raise LimitExceeded(f"repeating a value of length {len(seq):,} {count:,} times is over the output limit "
                                        f"of {limit.output:,} characters")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            if right * abs(left).bit_length() > MAX_EXPONENT_BITS:
                raise LimitExceeded(f"{left} ** {right} is over the size limit of numbers")
    elif operator == "+":
        if hasattr(left, "__len__") and hasattr(right, "__len__"):
            if len(left) + len(right) > limit.output:
                raise LimitExceeded(f"a value over the output limit of {limit.output:,} characters")
    elif operator == "%":
        _check_format(left)


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, checking the message's budget as the template runs."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context, operator, left, right):
        _tick()
        _check_binop(operator, left, right)
        return _sized(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja2's own signature)
        _tick()
        _check_args(args, kwargs)
        bound = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        _check_format(bound)
        return _sized(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj, attribute):
        _tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _tick()
        return super().getitem(obj, argument)


def _tick() -> None:
    limit = _budget()
    if limit is not None:
        limit.tick()


def _sized(value: Any) -> Any:
    limit = _budget()
    if limit is not None:
        limit.size(value)
    return value


def _limited_filter(func):
    @functools.wraps(func)
    def checked(*args, **kwargs):
        _tick()
        _check_args(args[1:], kwargs)  # the first argument is the value filtered (or the context)
        if func.__name__ == "do_format" or getattr(func, "__name__", "") == "format":
            _check_format(next((a for a in args if isinstance(a, str)), None))
        return _sized(func(*args, **kwargs))

    return checked


class _Range:
    """``range`` for user templates: the sandbox's (at most 100,000 items), a budget check per step."""

    def __init__(self, *args) -> None:
        from jinja2.sandbox import safe_range

        _check_args(args, {})
        self.items = safe_range(*args)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        for item in self.items:
            _tick()
            yield item


def harden(env) -> None:
    """Put the budget checks on ``env``'s filters and globals (a ``LimitedSandbox``): every
    filter is checked, ``range`` steps are counted, and generators of text (``lipsum``) go."""
    env.filters = {name: _limited_filter(func) for name, func in env.filters.items()}
    env.globals["range"] = _Range
    env.globals.pop("lipsum", None)
