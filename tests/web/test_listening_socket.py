"""The socket ``isp web`` and ``isp serve`` listen on (``web.server.bind``)."""

from __future__ import annotations

import asyncio
import socket

from isp_lifecycle.web import server


def test_connections_the_service_accepts_send_small_responses_at_once_without_nagle_delay():
    """uvicorn serves the bound socket through asyncio, which turns Nagle's algorithm off only on
    sockets that say they are TCP. With it on, a response written as a head then a body waited
    for the client's delayed acknowledgement (~40 ms on Linux) before its body left."""
    sock = server.bind("127.0.0.1", 0)
    seen: list[int] = []

    async def accept_one() -> None:
        async def handle(reader, writer) -> None:
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        listening = await asyncio.start_server(handle, sock=sock)
        async with listening:
            reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            await reader.read()
            writer.close()

    asyncio.run(asyncio.wait_for(accept_one(), 10))
    assert len(seen) == 1 and seen[0] != 0


def test_a_port_in_use_is_refused_with_one_line_naming_it():
    taken = server.bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        try:
            server.bind("127.0.0.1", port)
        except SystemExit as exc:
            message = str(exc)
        else:
            raise AssertionError("a second bind of the same port succeeded")
    finally:
        taken.close()
    assert message.startswith(f"isp web: cannot listen on 127.0.0.1:{port}:") and "\n" not in message
