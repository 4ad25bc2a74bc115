"""Fault ``gc_pressure``: a large cache of object graphs, and garbage only the collector frees.

To answer ``GET /products`` fast, the broken code keeps the last ``PAGES`` rendered
catalogue pages in memory, each as a tree of small objects (a row per product, a node
per piece of markup), warmed at start-up.  Every node points back at its row, every row
at its page: reference cycles.  Pages are per viewer, so under load each request renders
and stores a new one and evicts the oldest, which is then cyclic garbage that reference
counting cannot free, and old enough to sit in the collector's oldest generation.

CPython runs a full collection once the objects promoted to the oldest generation since
the last one reach a quarter of it: here every few dozen requests.  A full collection
walks every tracked object of the heap, the whole cache included (about a million
objects here), holding the GIL: for tens of milliseconds the event loop stalls, and a
stack sampled meanwhile shows whatever line allocated when it began (lagscope times the
collections themselves, and puts those stalls on ``<gc gen2>``).

The fixed twin keeps what it caches flat: each page as the bytes it is served as (one
object the collector never walks) with no back-references, so nothing becomes cyclic
garbage.  A large structure that start-up builds once is hidden from the collector by
``gc.freeze()`` after start-up (in a pre-fork server, before the workers fork).  Python
3.14's incremental collector splits full collections into smaller steps.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

PAGES = 100  # rendered pages the cache keeps
NODES_PER_ROW = 400  # markup nodes of one product row (a template engine makes hundreds)

Page = list[Any]
_trees: OrderedDict[int, Page] = OrderedDict()  # the broken cache: page trees
_flat: OrderedDict[int, bytes] = OrderedDict()  # the fixed cache: served bytes
_renders = 0


def render_tree(products: Sequence[dict[str, Any]]) -> Page:
    """The page as a tree: a row per product, ``NODES_PER_ROW`` nodes per row."""
    page: Page = []
    for product in products:
        row: list[Any] = [page, product["id"]]
        # SEEDED FAULT: every node points back at its row, every row at its page: cycles.
        row.extend((row, n) for n in range(NODES_PER_ROW))
        page.append(row)
    return page


def _keep(cache: OrderedDict[int, Any], value: Any) -> None:
    global _renders
    _renders += 1
    cache[_renders] = value
    while len(cache) > PAGES:
        cache.popitem(last=False)  # (broken) evicted: cyclic garbage, freed by a full collection


def products_broken(products: Sequence[dict[str, Any]]) -> None:
    _keep(_trees, render_tree(products))


def products_fixed(products: Sequence[dict[str, Any]]) -> None:
    _keep(_flat, json.dumps(list(products)).encode())


def warm(products: Sequence[dict[str, Any]]) -> None:
    """Fill the broken cache (when the fault is switched on): a one-off pause of the loop."""
    for _ in range(PAGES - len(_trees)):
        products_broken(products)


def drop() -> None:
    """Let the broken cache go (when the fault is switched off)."""
    _trees.clear()
