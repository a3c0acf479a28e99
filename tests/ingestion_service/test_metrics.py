"""The end-to-end histogram, observed a batch at a time, reads on /metrics as prometheus_client's own Histogram
would after one observe per message."""

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from ingestion_service.metrics import BatchHistogram

BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
latencies = st.floats(min_value=-1e6, max_value=1e12, allow_nan=False) | st.sampled_from(BUCKETS)


def exposition(registry: CollectorRegistry) -> list[str]:
    # prometheus_client's Histogram adds a `_created` time; what Prometheus reads of a histogram is the rest.
    return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]


@given(batches=st.lists(st.lists(latencies, max_size=20), max_size=5))
def test_a_batch_histogram_reads_as_one_observe_per_value(batches):
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    batch_histogram = BatchHistogram("latency_seconds", "From produced to committed", BUCKETS, registry=ours)
    histogram = Histogram("latency_seconds", "From produced to committed", buckets=BUCKETS, registry=theirs)

    for batch in batches:
        batch_histogram.observe_many(batch)
        for value in batch:
            histogram.observe(value)

    assert exposition(ours) == exposition(theirs)
