"""What the metrics tests of every layer expect to scrape."""

from __future__ import annotations

# http-api I27: the series and labels GET /metrics shows once a /healthz, an /img and a
# POST /api/jobs request have been served and a task is pending in "critical".
I27_METRIC_TEXTS = (
    "vylux_http_requests_total",
    "vylux_http_request_duration_seconds",
    "vylux_image_cache_events_total",
    "vylux_image_errors_total",
    "vylux_image_results_total",
    "vylux_queue_tasks",
    'route="/healthz"',
    'route="/img/:sig/:opts/*"',
    'route="/api/jobs"',
    'layer="memory",result="miss"',
    'layer="storage",result="miss"',
    'queue="critical",state="pending"',
)


def assert_i27_metrics(exposition: str) -> None:
    """Every I27 text stands in ``exposition`` (a Prometheus text scrape)."""
    for text in I27_METRIC_TEXTS:
        assert text in exposition, text
