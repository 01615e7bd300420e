"""Benchmark: My Media with 10,000 entries for one person.

    .venv/bin/python bench/mymedia_bench.py [--entries 10000] [--requests 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/liverec .venv/bin/python bench/mymedia_bench.py

On PostgreSQL when DATABASE_URL is set (a throwaway database `liverec_mymedia_bench` on the same
server), else on a SQLite file under var/bench/. One person owns or collaborates on --entries
entries (a third shared with them as co-editor or co-viewer, some published to a channel) and
has recordings in progress; another has 10. The page is rendered through Django's test client
(middleware, view, template: everything but the socket), with DEBUG off.

Figures: SQL queries per page (10-entry person vs 10,000-entry person, first page, a deep page,
a search), and server time over --requests requests of a mix of pages. Targets: the same query
count for 10 and 10,000 entries, at most 10; p95 under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import timedelta

from common import ROOT, VAR, machine_note, table

TARGET_QUERIES = 10
TARGET_P95_MS = 100.0
DB_NAME = "liverec_mymedia_bench"


def configure() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        from common import ensure_database

        url = ensure_database(DB_NAME)
        engine = "PostgreSQL"
    else:
        VAR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{VAR / 'mymedia-bench.sqlite3'}"
        engine = "SQLite"
        import subprocess
        import sys

        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            check=True,
            env=dict(
                os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(VAR / "mymedia-var")
            ),
        )
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        VAR_DIR=str(VAR / "mymedia-var"),
    )
    import django

    django.setup()
    return engine


def seed(entries: int) -> tuple[object, object]:
    from django.db import transaction
    from django.utils import timezone

    from media_library.models import ChannelPublication, EntryCollaborator, MediaEntry
    from meetings import services as meeting_services
    from meetings.models import CollaboratorRole, LiveSession, User
    from recordings.models import Recording

    demo = meeting_services.seed_demo(password="bench-only-1234")
    big, _ = User.objects.get_or_create(username="bench_big")
    small, _ = User.objects.get_or_create(username="bench_small")
    other, _ = User.objects.get_or_create(username="bench_other")
    if MediaEntry.objects.filter(owner=big).count() + EntryCollaborator.objects.filter(user=big).count() >= entries:
        return big, small
    with transaction.atomic():
        MediaEntry.objects.filter(owner__in=[big, small, other]).delete()
        now = timezone.now()

        def batch(owner: User, count: int, prefix: str) -> list[MediaEntry]:
            made = MediaEntry.objects.bulk_create(
                [
                    MediaEntry(
                        title=f"{prefix} {i:05d} weekly sync",
                        owner=owner,
                        creator=owner,
                        size=50_000_000 + i,
                        duration=1800.0 + i,
                        file=f"entries/bench/{prefix}-{i}.mp4",
                        content_type="video/mp4",
                    )
                    for i in range(count)
                ],
                batch_size=2000,
            )
            return made

        owned = batch(big, entries - entries // 3, "Own")
        shared = batch(other, entries // 3, "Shared")
        EntryCollaborator.objects.bulk_create(
            [
                EntryCollaborator(
                    entry=e, user=big, role=CollaboratorRole.CO_EDITOR if i % 2 else CollaboratorRole.CO_VIEWER
                )
                for i, e in enumerate(shared)
            ],
            batch_size=2000,
        )
        ChannelPublication.objects.bulk_create(
            [ChannelPublication(channel=demo.channel, entry=e) for e in owned[::10]], batch_size=2000
        )
        batch(small, 10, "Small")
        batch(other, 2000, "Unrelated")  # other people's entries the queries must skip
        # Spread creation times so "newest first" has real work to do.
        for step, entry_ids in enumerate(chunks([e.pk for e in owned + shared], 1000)):
            MediaEntry.objects.filter(pk__in=entry_ids).update(created_at=now - timedelta(hours=step))
        room = demo.rooms["single"]
        room.owner = big
        room.save()
        session = LiveSession.objects.create(room=room, started_at=now, max_end_at=now + timedelta(hours=24))
        for progress in (15, 55, 85):
            Recording.objects.create(
                room=room,
                session=session,
                started_by=big,
                state=Recording.State.PROCESSING,
                progress=progress,
                started_at=now,
                cap_deadline=now + timedelta(hours=24),
                first_media_deadline=now + timedelta(minutes=1),
            )
    return big, small


def chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def queries(client: object, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(machine_note())
    engine = configure()
    from django.test import Client

    started = time.perf_counter()
    big, small = seed(args.entries)
    from django.db import connection

    with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load in production
        cursor.execute("ANALYZE")
    print(f"{engine}: seeded and analyzed in {time.perf_counter() - started:.1f} s")

    small_client, big_client = Client(), Client()
    small_client.force_login(small)
    big_client.force_login(big)
    for c in (small_client, big_client):  # warm: templates compiled, connections open
        c.get("/my-media/")
    from media_library import conf, permissions

    listed = permissions.personal_entries(big).count()
    pages = -(-listed // conf.page_size())
    print(f"bench_big lists {listed:,} entries on {pages} pages")
    counts = [
        ["10 entries, page 1", queries(small_client, "/my-media/")],
        [f"{args.entries:,} entries, page 1", queries(big_client, "/my-media/")],
        [f"{args.entries:,} entries, page {pages // 2}", queries(big_client, f"/my-media/?page={pages // 2}")],
        [f"{args.entries:,} entries, search", queries(big_client, "/my-media/?q=00042")],
    ]
    mix = [
        "/my-media/",
        f"/my-media/?page={pages // 2}",
        f"/my-media/?page={pages}",
        "/my-media/?q=sync&page=3",
        "/my-media/?q=00042",
    ]
    times: dict[str, list[float]] = {url: [] for url in mix}
    for i in range(args.requests):
        url = mix[i % len(mix)]
        start = time.perf_counter()
        response = big_client.get(url)
        times[url].append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    everything = sorted(t for ts in times.values() for t in ts)

    def p95(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]

    print()
    print(table(["page", "SQL queries"], counts))
    print()
    rows = [
        [url, len(ts), f"{statistics.median(ts):.1f}", f"{p95(ts):.1f}", f"{max(ts):.1f}"] for url, ts in times.items()
    ]
    rows.append(
        [
            "all",
            len(everything),
            f"{statistics.median(everything):.1f}",
            f"{p95(everything):.1f}",
            f"{max(everything):.1f}",
        ]
    )
    print(table(["request", "n", "p50 ms", "p95 ms", "max ms"], rows))
    same = counts[0][1] == counts[1][1]  # the same page for 10 and for 10,000 entries
    worst = max(count for _, count in counts)
    print()
    print(
        f"page 1 queries equal for 10 and {args.entries:,} entries ({counts[0][1]} = {counts[1][1]}), "
        f"every page <= {TARGET_QUERIES} ({worst}): {'PASS' if same and worst <= TARGET_QUERIES else 'FAIL'}"
    )
    print(
        f"p95 {p95(everything):.1f} ms (target < {TARGET_P95_MS:.0f} ms): "
        f"{'PASS' if p95(everything) < TARGET_P95_MS else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
