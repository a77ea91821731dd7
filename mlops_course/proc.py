"""Small process, port and log helpers shared by the server, the grader, serving and `course`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path


def stop_group(proc, *, grace: float = 10.0) -> None:
    """Stop a child started with ``start_new_session=True`` and everything it started:
    SIGTERM to its process group, then SIGKILL if it is still there after ``grace`` seconds.
    ``proc`` needs ``pid`` and ``wait(timeout)`` (a ``Popen`` or the warm grader's child)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_on_hangup() -> None:
    """Treat SIGTERM and SIGHUP (a closed terminal) like Ctrl-C: raise KeyboardInterrupt in the
    main thread, so the caller's ``finally`` stops what it started."""

    def _interrupt(signum, frame):
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _interrupt)


def die_with_parent() -> None:
    """In a child, before exec (``preexec_fn``): ask Linux to send SIGTERM when the parent dies,
    even by SIGKILL. A no-op where ``prctl(PR_SET_PDEATHSIG)`` does not exist."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def tail(path: Path, limit: int = 2000) -> str:
    """The last ``limit`` bytes of a (possibly huge) log file, as text; "" if unreadable."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            return fh.read().decode(errors="replace").strip()
    except OSError:
        return ""


LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when ``host:port`` can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
