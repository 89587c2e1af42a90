"""The shared model lock: requests go before background chunks, background work is not starved."""

from __future__ import annotations

import threading
import time

from service.model_lock import ModelLock


def _chunks(lock: ModelLock, done: list[int], count: int, hold: float, stop: threading.Event) -> None:
    """An ingest job: takes the lock per chunk, back to back."""
    for number in range(count):
        if stop.is_set():
            return
        with lock.background():
            done.append(number)
            time.sleep(hold)


def test_a_request_waits_for_the_running_chunk_only():
    lock, done, stop = ModelLock(patience=30.0), [], threading.Event()
    job = threading.Thread(target=_chunks, args=(lock, done, 40, 0.03, stop))
    job.start()
    try:
        waits = []
        for _ in range(5):
            while len(done) < 2:
                time.sleep(0.001)
            before = len(done)
            with lock:
                waits.append(len(done) - before)  # chunks that started while this request waited
            time.sleep(0.05)
        assert max(waits) <= 1, waits
    finally:
        stop.set()
        job.join()


def test_background_work_takes_its_turn_after_its_patience():
    lock, stop, waits = ModelLock(patience=0.2), threading.Event(), []

    def requests():  # two clients calling back to back: a request is always waiting
        while not stop.is_set():
            with lock:
                time.sleep(0.01)

    def job():
        for _ in range(5):
            started = time.monotonic()
            with lock.background():
                waits.append(time.monotonic() - started)

    clients = [threading.Thread(target=requests) for _ in range(2)]
    for client in clients:
        client.start()
    time.sleep(0.05)
    worker = threading.Thread(target=job)
    worker.start()
    worker.join(timeout=10)
    stop.set()
    for client in clients:
        client.join()
    worker.join()
    assert len(waits) == 5 and max(waits) < 2.0, waits  # ~0.2 s each: patience, then its turn


def test_requests_take_turns_in_the_order_they_came():
    lock, order, guard = ModelLock(), [], threading.Lock()
    ready = threading.Barrier(4)

    def client(name: int) -> None:  # calls back to back, as a busy client does
        ready.wait()
        for _ in range(15):
            with lock:
                with guard:
                    order.append(name)
                time.sleep(0.003)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    middle = order[8:len(order) - 8]  # all four are queued by now and until near the end
    repeats = sum(a == b for a, b in zip(middle, middle[1:]))
    assert repeats == 0, order  # a thread that lets go and asks again queues behind the others


def test_a_thread_marked_as_background_lets_requests_go_first():
    lock, order = ModelLock(patience=30.0), []

    def marked():  # e.g. leads prepared after an upload: the same code path as a request
        with lock.background_thread():
            with lock:
                order.append("background")

    def request():
        with lock:
            order.append("request")

    lock.acquire()
    first = threading.Thread(target=marked)
    first.start()
    time.sleep(0.05)  # it waits first...
    second = threading.Thread(target=request)
    second.start()
    time.sleep(0.05)
    lock.release()
    first.join()
    second.join()
    assert order == ["request", "background"]  # ...and still goes after the request


def test_one_holder_at_a_time():
    lock, inside, worst = ModelLock(patience=0.05), [0], [0]
    guard = threading.Lock()

    def work(background: bool) -> None:
        for _ in range(50):
            with (lock.background() if background else lock):
                with guard:
                    inside[0] += 1
                    worst[0] = max(worst[0], inside[0])
                time.sleep(0.0005)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=work, args=(i % 2 == 0,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert worst[0] == 1
