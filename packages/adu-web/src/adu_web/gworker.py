"""gunicorn's threaded worker with a deadline on reading each request.

gunicorn's ``gthread`` worker hands a connection to a thread as soon as its first bytes
arrive, and the thread then reads the rest with a blocking socket: a client that sends a
header byte every few seconds (slowloris) holds a thread forever, and a dozen such clients
take every thread — ``/healthz`` included. Here the socket a thread reads from has a
deadline: the whole request (line, headers and body) must arrive within
``ADU_WEB_CLIENT_SECONDS`` (default 15), and each write to the client must make progress
within the same time, else the connection is closed and the thread freed.

This bounds what one slow client costs; a production deployment still belongs behind a
reverse proxy that buffers requests (see docs/web.md).
"""

from __future__ import annotations

import os
import socket
import time
import weakref
from typing import Any

from gunicorn.http.errors import NoMoreData
from gunicorn.workers.gthread import ThreadWorker

#: default seconds a client has to send a whole request
DEFAULT_CLIENT_SECONDS = 15.0

_deadlines: weakref.WeakKeyDictionary[socket.socket, float] = weakref.WeakKeyDictionary()


def client_seconds() -> float:
    """``ADU_WEB_CLIENT_SECONDS``: how long a client may take to send one request."""
    try:
        value = float(os.environ.get("ADU_WEB_CLIENT_SECONDS") or DEFAULT_CLIENT_SECONDS)
    except ValueError:
        return DEFAULT_CLIENT_SECONDS
    return value if value > 0 else DEFAULT_CLIENT_SECONDS


class DeadlineSocket(socket.socket):
    """A client socket whose reads share one deadline per request (set when gunicorn makes
    it blocking to handle a request) and whose writes each have a timeout."""

    __slots__ = ()

    def setblocking(self, flag: bool) -> None:
        if flag:
            limit = client_seconds()
            _deadlines[self] = time.monotonic() + limit
            self.settimeout(limit)
        else:
            super().setblocking(False)

    def _until_deadline(self) -> None:
        deadline = _deadlines.get(self)
        if deadline is None or self.gettimeout() == 0.0:
            return  # non-blocking (the poller's): no deadline
        left = deadline - time.monotonic()
        if left <= 0:
            raise NoMoreData(b"")  # gunicorn closes the connection quietly
        self.settimeout(left)

    def recv(self, *args: Any) -> bytes:
        self._until_deadline()
        try:
            return super().recv(*args)
        except TimeoutError:
            raise NoMoreData(b"") from None

    def recv_into(self, *args: Any) -> int:
        self._until_deadline()
        try:
            return super().recv_into(*args)
        except TimeoutError:
            raise NoMoreData(b"") from None

    def _write_timeout(self) -> None:
        if self.gettimeout() != 0.0:
            self.settimeout(client_seconds())

    def send(self, *args: Any) -> int:
        self._write_timeout()
        return super().send(*args)

    def sendall(self, *args: Any) -> None:
        self._write_timeout()
        super().sendall(*args)


class BoundedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's ``gthread`` worker, its client sockets made :class:`DeadlineSocket`."""

    def enqueue_req(self, conn: Any) -> None:
        if type(conn.sock) is socket.socket:
            conn.sock.__class__ = DeadlineSocket
        super().enqueue_req(conn)
