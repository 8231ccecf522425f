"""The cloud worker's Prometheus metrics, on a registry that ``create_app`` makes (or is given).

Not the process-global registry: two apps in one process (tests, a benchmark beside a server) each
count their own, and ``/metrics`` shows exactly this worker's figures.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class CloudMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.ops = Counter(
            "wims_cloud_ops_total", "Ops received by ingest, by outcome.", ["outcome"], registry=registry
        )
        self.batch_seconds = Histogram(
            "wims_cloud_ingest_batch_seconds",
            "Time to ingest one batch.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
            registry=registry,
        )
