"""A TCP link in front of a real server that the test turns slow or dead: it passes bytes on, holds them (the
server seems to hang: connections are accepted and never answered), or cuts every connection."""

from __future__ import annotations

import socket
import threading
from typing import Literal

__all__ = ["FaultyLink"]

Mode = Literal["pass", "hang", "cut"]


class FaultyLink:
    def __init__(self, upstream: str):
        host, port = upstream.removeprefix("http://").rsplit(":", 1)
        self.upstream = (host, int(port))
        self.mode: Mode = "pass"
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def set(self, mode: Mode) -> None:
        """From now on, on new and open connections alike."""
        self.mode = mode
        if mode == "cut":
            self._close_all()

    def close(self) -> None:
        self._listener.close()
        self._close_all()

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _keep(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._sockets.extend(sockets)

    def _accept(self) -> None:
        while True:
            try:
                client = self._listener.accept()[0]
            except OSError:
                return  # closed
            if self.mode == "cut":
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            self._keep(client, server)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.mode == "hang":  # held: the other side waits, and is never answered
                    threading.Event().wait(0.05)
                if self.mode == "cut":
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
