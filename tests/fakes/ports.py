"""A free local port in a test server's own range (other runs may hold some of them)."""

from __future__ import annotations

import socket


def free_port(ports: range) -> int:
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")
