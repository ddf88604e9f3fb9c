"""`GET /metrics`: the server's counters in Prometheus' text format, read from the batcher at scrape time."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


class _EngineCollector:
    def __init__(self, service) -> None:
        self.service = service

    def collect(self):
        engine = self.service.engine
        stats = engine.stats
        finished = CounterMetricFamily("graphllm_requests", "requests ended, by how (stop, length, time_limit, "
                                       "cancelled, error)", labels=["finish"])
        for reason, count in sorted(stats.requests.items()):
            finished.add_metric([reason], count)
        yield finished
        refused = CounterMetricFamily("graphllm_requests_refused", "requests refused, by HTTP status",
                                      labels=["status"])
        for status, count in sorted(self.service.refused.items()):
            refused.add_metric([str(status)], count)
        yield refused
        yield GaugeMetricFamily("graphllm_queue_length", "requests waiting for a row", value=engine.queue.qsize())
        yield GaugeMetricFamily("graphllm_batch_size", "rows being decoded", value=stats.batch_size)
        yield CounterMetricFamily("graphllm_tokens", "answer tokens decoded", value=stats.tokens)
        yield GaugeMetricFamily("graphllm_tokens_per_second", "tokens per second of recent decoding steps",
                                value=stats.tokens_per_second)
        steps = CounterMetricFamily("graphllm_steps", "decoding steps, by mode", labels=["mode"])
        steps.add_metric(["plain"], stats.plain_steps)
        steps.add_metric(["speculative"], stats.speculative_steps)
        yield steps
        per_pass = stats.speculative_tokens / stats.speculative_rows if stats.speculative_rows else 0.0
        yield GaugeMetricFamily("graphllm_speculation_tokens_per_pass", "tokens committed per row and speculative "
                                "pass (1 + accepted draft tokens; 0 before any)", value=per_pass)


def metrics_text(service) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_EngineCollector(service))
    return generate_latest(registry)
