"""Mapped stages submit their task runs a slice at a time (flows.ingest._results): results come back in
submission order, with never more than the window submitted and unfinished."""

import pytest

from flows.ingest import _results


class Future:
    def __init__(self, value, log):
        self.value, self.log = value, log

    def result(self):
        self.log.append(("done", self.value))
        return self.value * 10


@pytest.mark.parametrize("n", [0, 1, 2, 7, 8, 9, 33])
@pytest.mark.parametrize("window", [1, 2, 3, 8, 16])
def test_results_in_order_within_the_window(n, window):
    log, calls, progress = [], [], []

    def submit(s: slice):
        chosen = list(range(n))[s]
        calls.append((s.start, len(chosen)))
        log.extend(("submitted", v) for v in chosen)
        return [Future(v, log) for v in chosen]

    sizes = [v + 1 for v in range(n)]
    assert _results(submit, sizes, window, "stage", lambda *a: progress.append(a)) == [v * 10 for v in range(n)]
    unfinished, most = 0, 0
    for event, _ in log:
        unfinished += 1 if event == "submitted" else -1
        most = max(most, unfinished)
    assert most <= max(window, 1) and [v for e, v in log if e == "submitted"] == list(range(n))
    assert all(count == max(1, window // 2) for _, count in calls[:-1])
    assert progress[0] == ("stage", 0, sum(sizes)) and progress[-1] == ("stage", sum(sizes), sum(sizes))
    assert [p[1] for p in progress] == sorted(p[1] for p in progress) and len(progress) == n + 1
