"""The video partial keeps the HTMX rule (tests/core/test_htmx_rule.py): its root carries the file
name's id and every trigger in it swaps an element carrying a partial's id."""

from __future__ import annotations

from app.config import ROOT
from tests.core.test_htmx_rule import (
    REQUEST_ATTRS,
    partial_id,
    partials,
    root_problem,
    template_tree,
    trigger_problem,
)

PARTIAL = ROOT / "templates" / "teaching" / "partials" / "lecture_video.html"


def test_the_root_id_is_the_file_name() -> None:
    assert partial_id(PARTIAL) == "lecture-video"
    assert root_problem(PARTIAL) is None


def test_every_trigger_swaps_the_partial_root() -> None:
    ids = {partial_id(p) for p in partials()}
    triggers = [
        node
        for node in template_tree(PARTIAL).walk()
        if any(attr in node.attrs for attr in REQUEST_ATTRS)
    ]
    assert len(triggers) == 2  # the status poll and "Retry processing"
    assert [trigger_problem(PARTIAL, node, ids) for node in triggers] == [None, None]
