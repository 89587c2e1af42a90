"""The replica file (vectors + content hashes + last sequence applied) and the reader/writer lock."""

import threading
import time

import numpy as np
import pytest

from index.replica import ReadWriteLock, ReplicaState, load_replica, save_replica
from index.vectors import VectorIndex, VectorIndexError


def _state(n: int = 5) -> ReplicaState:
    rng = np.random.default_rng(0)
    vectors = VectorIndex(8)
    ids = np.arange(10, 10 + n, dtype=np.int64)
    matrix = rng.normal(size=(n, 8)).astype(np.float32)
    vectors.add(ids, matrix / np.linalg.norm(matrix, axis=1, keepdims=True))
    return ReplicaState(vectors, {int(i): f"{int(i):032x}" for i in ids}, seq=42, signature="test-q")


def test_replica_round_trip_keeps_vectors_hashes_and_sequence(tmp_path):
    state = _state()
    save_replica(tmp_path / "r.replica", state)
    loaded = load_replica(tmp_path / "r.replica")
    assert loaded.seq == 42 and loaded.signature == "test-q" and loaded.hashes == state.hashes
    assert np.array_equal(loaded.vectors.ids(), state.vectors.ids())
    query = state.vectors.entries()[1][:1]
    assert np.array_equal(loaded.vectors.search(query, 3)[1], state.vectors.search(query, 3)[1])


def test_a_damaged_or_inconsistent_replica_is_refused(tmp_path):
    path = tmp_path / "r.replica"
    save_replica(path, _state())
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(VectorIndexError):
        load_replica(path)
    path.write_bytes(b"garbage")
    with pytest.raises(VectorIndexError):
        load_replica(path)
    with pytest.raises(VectorIndexError):
        load_replica(tmp_path / "missing.replica")
    broken = _state()
    broken.hashes[999] = "0" * 32  # a hash without a vector
    save_replica(path, broken)
    with pytest.raises(VectorIndexError, match="不一致"):
        load_replica(path)


def test_readers_share_the_lock_and_a_writer_waits_for_them_and_holds_back_new_readers():
    lock = ReadWriteLock()
    inside, both = threading.Semaphore(0), threading.Event()
    readers_in = []

    def reader():
        with lock.read():
            readers_in.append(1)
            inside.release()
            both.wait(5)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    assert inside.acquire(timeout=5) and inside.acquire(timeout=5)  # two readers inside at once
    order = []

    def writer():
        with lock.write():
            order.append("writer")

    def late_reader():
        with lock.read():
            order.append("late reader")

    w = threading.Thread(target=writer)
    w.start()
    time.sleep(0.1)
    late = threading.Thread(target=late_reader)
    late.start()
    time.sleep(0.1)
    assert order == []  # the writer waits for the readers; the late reader waits behind the writer
    both.set()
    for t in (*threads, w, late):
        t.join(5)
    assert order == ["writer", "late reader"]
