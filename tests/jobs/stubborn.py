"""Jobs for the worker tests, run by real worker processes (importable as tests.jobs.stubborn)."""

from __future__ import annotations

import time


def ignore_the_timeout(seconds: float) -> None:
    """A job that swallows the timeout's exception and carries on, as a handler that catches
    everything would: only the hard deadline stops it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            time.sleep(end - time.monotonic())
        except BaseException:  # the timeout included: that is the point of this job
            continue


def echo(word: str) -> str:
    """A job that does nothing but finish: for tests of when a job runs, not what it does."""
    return word
