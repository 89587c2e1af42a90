"""Spare cores for a lone model call when OpenMP is pinned to one thread (as ``xuncha serve`` pins it)."""

from __future__ import annotations

import os

import pytest
import sklearn.linear_model  # noqa: F401 - loads scikit-learn's OpenMP runtime
from threadpoolctl import threadpool_info, threadpool_limits

from service import cores


def _openmp_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "openmp"}


def test_runnable_threads_reads_the_kernel_count(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  1 2 3\nctxt 99\nprocs_running 3\nprocs_blocked 0\n")
    assert cores.runnable_threads(str(stat)) == 3
    assert cores.runnable_threads(str(tmp_path / "missing")) is None
    if os.path.exists(cores.PROC_STAT):
        assert cores.runnable_threads() >= 1  # this test's own thread is running


def test_spare_core_count():
    assert cores.spare_core_count(cores=2, running=1) == 1
    assert cores.spare_core_count(cores=2, running=2) == 0
    assert cores.spare_core_count(cores=4, running=7) == 0
    assert cores.spare_core_count(cores=4, running=0) == 3  # the caller always counts as one


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores")
def test_a_lone_call_takes_the_idle_cores_only_while_pinned(monkeypatch):
    if not _openmp_threads():
        pytest.skip("no OpenMP runtime loaded")
    pinned = threadpool_limits(limits=1, user_api="openmp")  # as OMP_NUM_THREADS=1 leaves the runtime
    before = _openmp_threads()
    assert before == {1}
    monkeypatch.setattr(cores, "runnable_threads", lambda path=cores.PROC_STAT: 1)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with cores.spare_cores():
        assert _openmp_threads() == before  # not pinned: left as the runtime chose
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with cores.spare_cores():
        assert _openmp_threads() == {os.cpu_count()}
    assert _openmp_threads() == before
    monkeypatch.setattr(cores, "runnable_threads", lambda path=cores.PROC_STAT: os.cpu_count())
    with cores.spare_cores():
        assert _openmp_threads() == before  # every core busy: the call keeps what it had
    pinned.restore_original_limits()
