"""A small process supervisor for `flask dev`: run named commands, restart one that dies after an
exponential backoff, and stop them all, each by its process group, when asked.

Each child runs in a session (and process group) of its own, so a Ctrl-C in the terminal reaches
only the supervisor, which then stops the children in order; and a child's own children (gunicorn
workers, RQ work horses) are signalled with it. On Linux a child also gets SIGTERM when the
supervisor dies, even by SIGKILL, so no orphan keeps the port or the database. Call `start`,
`poll` and `stop` from the main thread: that death signal follows the thread that spawned.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

FIRST_DELAY = 1.0  # seconds before the first restart; doubled on every quick death
MAX_DELAY = 30.0
STABLE_AFTER = 60.0  # a child up this long is healthy again: its next restart waits FIRST_DELAY
STOP_TIMEOUT = 10.0  # for a graceful stop, before the process group is killed
RESET = "\033[0m"
PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    """One supervised command and its restart state."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_deaths: int = 0  # deaths in a row, each before it had run STABLE_AFTER seconds
    restart_at: float = 0.0
    pumps: list[threading.Thread] = field(default_factory=list)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def next_delay(self) -> float:
        return float(min(MAX_DELAY, FIRST_DELAY * 2**self.quick_deaths))


class Supervisor:
    # False (the worker pool): children stay in our process group, so a kill of the group
    # (`kill -9 -PGID`, or `flask dev` stopping the worker) reaches all of them.
    own_groups = True
    stop_timeout = STOP_TIMEOUT
    label = "dev"

    def __init__(
        self,
        commands: Mapping[str, list[str]],
        env: Mapping[str, str],
        cwd: Path,
        colours: Mapping[str, str] | None = None,
    ) -> None:
        self.children = [Child(name, list(argv)) for name, argv in commands.items()]
        self.env, self.cwd, self.colours = dict(env), cwd, dict(colours or {})

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def poll(self) -> None:
        """Notice children that died (schedule their restart) and start those whose time came."""
        now = time.monotonic()
        for child in self.children:
            if child.process is None:
                if now >= child.restart_at:
                    self._spawn(child)
            elif child.process.poll() is not None:
                self._died(child, now)

    def stop(self, hurry: SignalFlag) -> None:
        """SIGTERM every child's process group, wait (not once `hurry` is set), then SIGKILL
        whatever of each group is left."""
        live = [c for c in self.children if c.running()]
        for child in live:
            self._signal(child, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in live:
            assert child.process is not None
            while child.process.poll() is None and time.monotonic() < deadline:
                if hurry.wait(0.1):
                    break
        for child in self.children:
            if child.process is not None:
                self._signal(child, signal.SIGKILL)
                child.process.wait()
                self.say(f"{child.name} stopped ({describe(child.process.returncode)})")
        for child in self.children:
            for pump in child.pumps:
                pump.join(timeout=1)

    def say(self, message: str) -> None:
        sys.stdout.write(f"{self.label:>6} | {message}\n")
        sys.stdout.flush()

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(  # noqa: S603 - fixed argv of our own tools
            child.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=self.own_groups,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
        child.started_at = time.monotonic()
        assert child.process.stdout is not None
        pump = threading.Thread(target=self._pump, args=(child.name, child.process.stdout))
        pump.daemon = True
        pump.start()
        child.pumps = [p for p in child.pumps if p.is_alive()] + [pump]

    def _died(self, child: Child, now: float) -> None:
        assert child.process is not None
        code = child.process.returncode
        # What the child left in its group (gunicorn workers hold the port) goes with it.
        self._signal(child, signal.SIGKILL)
        if now - child.started_at >= STABLE_AFTER:
            child.quick_deaths = 0
        delay = child.next_delay()
        child.quick_deaths += 1
        child.process, child.restart_at = None, now + delay
        self.say(f"{child.name} exited ({describe(code)}); restarting in {delay:g} s")

    def _signal(self, child: Child, sig: signal.Signals) -> None:
        """The child's process group, or the child alone when it shares ours."""
        if child.process is None:
            return
        if self.own_groups:
            _signal_group(child.process.pid, sig)
        elif child.process.poll() is None:  # never a reaped pid: it may be another's now
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child.process.pid, sig)

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        colour = self.colours.get(name, "")
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            sys.stdout.write(f"{colour}{name:>6} |{RESET} {line}\n")
            sys.stdout.flush()
        stream.close()


def describe(returncode: int | None) -> str:
    """'code 3', or 'code -9, SIGKILL' for a child killed by a signal."""
    if returncode is not None and returncode < 0:
        with contextlib.suppress(ValueError):
            return f"code {returncode}, {signal.Signals(-returncode).name}"
    return f"code {returncode}"


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class SignalFlag:
    """A flag a signal handler may set. threading.Event is not safe there: its set() takes a
    lock that the interrupted main thread may be holding inside Event.wait(), and then the
    process hangs for good (seen as a `flask dev` that ignored Ctrl-C). This one is a plain
    attribute, and wait() polls it."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        """True as soon as the flag is set, else False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._set and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return self._set


def alive(pid: int) -> bool:
    """Whether the process runs: a killed one stays a zombie until reaped (by init, when its
    parent died too), and signal 0 still reaches a zombie."""
    import psutil  # type: ignore[import-untyped]  # lazily: the web processes never need it

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # exists, but belongs to someone else
        return True


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent() -> None:
    """In the forked child, before exec: SIGTERM when the supervisor dies (Linux prctl)."""
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
