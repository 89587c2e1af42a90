"""Concurrent callers share model calls and each gets exactly its own results."""

import threading
import time

import pytest

from service.batching import MicroBatcher


def slow_double(items):
    time.sleep(0.05)
    return [item * 2 for item in items]


def test_a_lone_call_runs_at_once_in_one_batch():
    batcher = MicroBatcher(slow_double)
    assert batcher([1, 2, 3]) == [2, 4, 6]
    assert batcher.calls == 1


def test_concurrent_callers_are_batched_and_each_gets_its_own_results():
    batcher = MicroBatcher(slow_double, max_items=64)
    results: dict[int, list[int]] = {}

    def call(n: int) -> None:
        results[n] = batcher([n * 10 + i for i in range(3)])

    threads = [threading.Thread(target=call, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == {n: [2 * (n * 10 + i) for i in range(3)] for n in range(20)}
    assert batcher.calls < 20  # the ones that arrived while a batch ran went together


def test_a_batch_never_exceeds_max_items_and_a_request_is_never_split():
    sizes = []

    def record(items):
        sizes.append(len(items))
        time.sleep(0.02)
        return items

    batcher = MicroBatcher(record, max_items=5)
    threads = [threading.Thread(target=batcher, args=([n] * 3,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sum(sizes) == 24 and max(sizes) <= 5 and all(size % 3 == 0 for size in sizes)


def test_an_error_reaches_every_caller_of_the_batch_and_the_batcher_keeps_working():
    def fail_on_negative(items):
        time.sleep(0.02)
        if any(item < 0 for item in items):
            raise ValueError("negative")
        return items

    batcher = MicroBatcher(fail_on_negative)
    with pytest.raises(ValueError):
        batcher([-1])
    assert batcher([4]) == [4]
