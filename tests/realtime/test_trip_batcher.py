"""rooms.joins.TripBatcher: work that arrives while a database trip runs shares the next trip.

Real threads and a real event loop; the work itself is a function that records its batches.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from rooms import joins
from rooms.joins import TripBatcher

# The trips run through database_sync_to_async, which checks the thread's database connections.
pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.batches: list[list[int]] = []

    def __call__(self, batch: list[int]) -> list[int | BaseException]:
        self.batches.append(list(batch))
        time.sleep(self.seconds)  # a trip that takes a while, as under a join storm
        return [ValueError(item) if item < 0 else item * 10 for item in batch]


def test_each_waiter_gets_its_own_answer_and_a_failure_fails_only_its_item() -> None:
    async def scenario() -> None:
        batcher: TripBatcher[int, int] = TripBatcher(Recorder(0.0))
        answers = await asyncio.gather(*(batcher.submit(i) for i in (1, -2, 3)), return_exceptions=True)
        assert answers[0] == 10 and answers[2] == 30
        assert isinstance(answers[1], ValueError)

    asyncio.run(scenario())


def test_every_trip_that_is_not_full_waits_for_more_not_only_the_first() -> None:
    """Item 2 arrives during trip 1, item 3 just after it ends: both go in trip 2. Lingering only before
    the first trip (the code before) sent item 2 at once and then item 3 in a third trip."""

    async def scenario() -> None:
        work = Recorder(0.3)
        batcher: TripBatcher[int, int] = TripBatcher(work, linger=0.3)
        first = asyncio.create_task(batcher.submit(1))  # trip 1 at 0.3 s, done at 0.6 s
        await asyncio.sleep(0.45)
        second = asyncio.create_task(batcher.submit(2))
        await asyncio.sleep(0.25)  # 0.7 s: trip 1 is over, trip 2 not begun (0.9 s)
        third = asyncio.create_task(batcher.submit(3))
        assert await asyncio.gather(first, second, third) == [10, 20, 30]
        assert work.batches == [[1], [2, 3]]

    asyncio.run(scenario())


def test_a_full_batch_does_not_linger_and_no_trip_is_larger_than_the_maximum(monkeypatch) -> None:
    monkeypatch.setattr(joins, "MAX_BATCH", 4)

    async def scenario() -> None:
        work = Recorder(0.0)
        batcher: TripBatcher[int, int] = TripBatcher(work, linger=60.0)
        # Two full trips, neither waits a minute for company.
        answers = await asyncio.wait_for(asyncio.gather(*(batcher.submit(i) for i in range(8))), timeout=20)
        assert answers == [i * 10 for i in range(8)]
        assert work.batches == [[0, 1, 2, 3], [4, 5, 6, 7]]

    asyncio.run(scenario())
