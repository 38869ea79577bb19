"""IdleTrim: the heap is trimmed when the last overlapping large render is done."""

from __future__ import annotations

import threading

from vylux_adapters.vips.heap import IdleTrim


def test_trims_only_when_the_last_render_in_flight_finishes() -> None:
    trims: list[int] = []
    idle = IdleTrim(trim=lambda: trims.append(1))

    idle.started()
    idle.started()
    idle.finished()
    assert trims == []  # one render is still running: its successor reuses the blocks
    idle.finished()
    assert trims == [1]
    idle.started()
    idle.finished()
    assert trims == [1, 1]


def test_counts_from_many_threads() -> None:
    trims: list[int] = []
    idle = IdleTrim(trim=lambda: trims.append(1))
    for _ in range(64):
        idle.started()
    barrier = threading.Barrier(8)

    def finish_eight() -> None:
        barrier.wait()
        for _ in range(8):
            idle.finished()

    threads = [threading.Thread(target=finish_eight) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert trims == [1]
