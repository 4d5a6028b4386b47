"""The data tests whose result a build already knows, which `dbt build` leaves out.

Two kinds of node cannot give a test a new answer:
- a staging model whose bronze tables the build reads no file of (a source with nothing new,
  switched off or never loaded): bronze_files makes it zero rows by construction;
- on a build on a previous publication, a seed: seeds are part of model_hash, so the
  publication built on came, by an unbroken chain, from a full build that tested these seeds.
A test that reads nothing but such nodes is settled. Leaving the ~20 of an ECB-only daily run
out saves ~0.5 s of its ~3 s build (dbt's cost is per node, not per row).
"""

from __future__ import annotations

from typing import Any

from makerates_silver.bronze import RATE_TABLES, files_variable

SOURCE_PREFIX = "source.makerates_silver.bronze."


def settled_tests(manifest: Any, inputs: dict[str, str], *, incremental: bool) -> list[str]:
    """The names of the settled tests of the parsed `manifest`, for `--exclude`."""
    unread = {SOURCE_PREFIX + t for t in RATE_TABLES if not inputs.get(files_variable(t))}
    settled = set()
    for unique_id, node in manifest.nodes.items():
        sources = {p for p in parents(node) if p.startswith("source.")}
        if node.resource_type == "model" and sources and sources <= unread:
            settled.add(unique_id)
        if node.resource_type == "seed" and incremental:
            settled.add(unique_id)
    return sorted(
        node.name
        for node in manifest.nodes.values()
        if node.resource_type == "test" and parents(node) and parents(node) <= settled
    )


def parents(node: Any) -> set[str]:
    """The models, seeds and sources a node reads (a seed's depends_on has macros only)."""
    return set(getattr(node.depends_on, "nodes", ()))
