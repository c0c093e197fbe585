"""The store's clock as the HTTP service reads it: one reading for every request waiting.

A read answered from memory (``reading.Reading``) must still show every write committed
before its request arrived, so it needs a reading of the clock taken after that. One query
per request, each in a worker thread, costs more than the rest of such a read; instead,
requests that arrive while a reading is under way wait for the next one, which starts when
the current one ends and serves them all. Under load one reading serves tens of requests; a
request alone waits for one reading, as it would for its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from anyio import to_thread


class Clock:
    def __init__(self, read: Callable[[], tuple[int, int]]) -> None:
        self.read = read  # blocking: run in a worker thread
        self._next: asyncio.Future | None = None  # the reading new arrivals wait for, not begun yet
        self._taking: asyncio.Task | None = None
        self._once: dict[int, asyncio.Future] = {}

    async def reading(self) -> tuple[int, int]:
        """(Portfolio ticks, credentials ticks), read after this call began."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            self._next.add_done_callback(_retrieved)
        waiting = self._next
        if self._taking is None:
            self._begin()
        return await asyncio.shield(waiting)  # a caller that gives up must not cancel the others' reading

    async def once(self, tick: int, work: Callable[[], None]) -> None:
        """``work()`` in a worker thread, once for all the requests that wait on the same tick
        (bringing the portfolio up to date after a write: not once per request waiting)."""
        found = self._once.get(tick)
        if found is None:
            found = self._once[tick] = asyncio.ensure_future(to_thread.run_sync(work))
            found.add_done_callback(lambda _: self._once.pop(tick, None))
            found.add_done_callback(_retrieved)
        await asyncio.shield(found)

    def _begin(self) -> None:
        current, self._next = self._next, None
        self._taking = asyncio.get_running_loop().create_task(self._take(current))

    async def _take(self, current: asyncio.Future) -> None:
        try:
            current.set_result(await to_thread.run_sync(self.read))
        except BaseException as exc:  # the store down, say: each waiting request answers it (503)
            current.set_exception(exc)
        finally:
            self._taking = None
            if self._next is not None:  # requests came during this reading: theirs begins now
                self._begin()


def _retrieved(future: asyncio.Future) -> None:
    """Mark an exception as seen, whoever waited for it (or gave up)."""
    if not future.cancelled():
        future.exception()
