"""ABC velocity classes from the site's own pick history: fast movers belong near the dock.

A SKU's velocity is the number of pick lines that touched it (visits, not units: walking is paid per
visit). SKUs sorted by visits make up the first ``a_share`` of all visits as class A, the next up to
``b_share`` as B, the rest C: the usual Pareto split (80% / 95%). A SKU never picked is C (the putaway
reads a missing class so), except that a site without any pick history has no classes at all, and the
putaway then only prefers nearer slots, gently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Literal

VelocityClass = Literal["A", "B", "C"]


def velocity_classes(
    picked_skus: Iterable[str], *, a_share: float = 0.8, b_share: float = 0.95
) -> dict[str, VelocityClass]:
    """Class of each SKU seen in ``picked_skus`` (one entry per pick line, e.g. the journal's pick ops)."""
    if not 0 < a_share <= b_share <= 1:
        raise ValueError("need 0 < a_share <= b_share <= 1")
    visits = Counter(picked_skus)
    total = sum(visits.values())
    classes: dict[str, VelocityClass] = {}
    running = 0
    for sku, n in sorted(visits.items(), key=lambda kv: (-kv[1], kv[0])):
        share_before = running / total
        running += n
        classes[sku] = "A" if share_before < a_share else "B" if share_before < b_share else "C"
    return classes
