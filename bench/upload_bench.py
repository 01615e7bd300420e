"""Benchmark: publishing a 2 GB recording file to storage, memory and speed.

    .venv/bin/python bench/upload_bench.py [--size-mb 2048] [--rounds 1]

Rows, each measured in its own child process (so one variant's memory never counts for another):

- ours, S3: `media_library.storage.put_file` (the publish step's upload: the storage's
  TransferConfig, multipart, then a size check) into a moto server on loopback;
- boto3 upload_file: boto3's own `upload_file` of the same file, same server, default config;
- upload_fileobj: what django-storages' `_save` does (a file object, the storage's
  TransferConfig), for comparison: it holds whole parts in memory;
- ours, file system: `put_file` into a FileSystemStorage (sendfile copy, fsync, atomic rename);
- shutil.copyfile: the same copy without fsync/verification, as the file-system anchor.

The moto server runs in its own process: its copy of the object in memory is not ours. Peak
RSS growth = the child's peak RSS (ru_maxrss from wait4) minus its RSS just before the upload.
Targets: growth under 150 MB; our S3 throughput at least 0.8x boto3's upload_file.
The file is random bytes under var/bench/ (out of git), made once and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import ROOT, VAR, free_port, machine_note, table

BUCKET = "liverec-bench"
TARGET_GROWTH_MB = 150.0
TARGET_RATIO = 0.8
MB = 1024 * 1024


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def make_file(path: Path, size_mb: int) -> Path:
    if path.exists() and path.stat().st_size == size_mb * MB:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for _ in range(size_mb // 8):
            fh.write(os.urandom(8 * MB))
        fh.write(os.urandom((size_mb % 8) * MB))
    return path


# --- Children: one variant each; print JSON on the last line -----------------------------------------


def child(variant: str, path: str, endpoint: str, key: str) -> None:
    import boto3

    if variant in ("ours-s3", "ours-fs"):
        env = {"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(VAR / "upload-var"), "LOG_LEVEL": "WARNING"}
        if variant == "ours-s3":
            env.update(
                AWS_STORAGE_BUCKET_NAME=BUCKET,
                AWS_S3_ENDPOINT_URL=endpoint,
                AWS_ACCESS_KEY_ID="x",
                AWS_SECRET_ACCESS_KEY="x",
                AWS_S3_REGION_NAME="us-east-1",
            )
        else:
            env.update(MEDIA_ROOT=str(VAR / "upload-fs"))
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.files.storage import default_storage

        from media_library import storage

        default_storage.exists("warm-up")  # open the connection before measuring, like a warm worker
        before = rss_kb()
        start = time.perf_counter()
        stored = storage.put_file(storage=default_storage, name=key, path=path, content_type="video/mp4")
        seconds = time.perf_counter() - start
        default_storage.delete(key)
    elif variant == "fileobj":
        # What django-storages' _save does: upload_fileobj with the storage's TransferConfig.
        os.environ.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            VAR_DIR=str(VAR / "upload-var"),
            LOG_LEVEL="WARNING",
            AWS_STORAGE_BUCKET_NAME=BUCKET,
            AWS_S3_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="x",
            AWS_SECRET_ACCESS_KEY="x",
            AWS_S3_REGION_NAME="us-east-1",
        )
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.files.storage import default_storage

        client = default_storage.connection.meta.client
        client.list_buckets()
        before = rss_kb()
        start = time.perf_counter()
        with open(path, "rb") as fh:
            client.upload_fileobj(fh, BUCKET, key, Config=default_storage.transfer_config)
        seconds = time.perf_counter() - start
        stored = client.head_object(Bucket=BUCKET, Key=key)["ContentLength"]
        client.delete_object(Bucket=BUCKET, Key=key)
    elif variant == "boto3":
        client = boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )
        client.list_buckets()
        before = rss_kb()
        start = time.perf_counter()
        client.upload_file(path, BUCKET, key)
        seconds = time.perf_counter() - start
        stored = client.head_object(Bucket=BUCKET, Key=key)["ContentLength"]
        client.delete_object(Bucket=BUCKET, Key=key)
    elif variant == "copyfile":
        target = VAR / "upload-fs" / "copy.bin"
        target.parent.mkdir(parents=True, exist_ok=True)
        before = rss_kb()
        start = time.perf_counter()
        shutil.copyfile(path, target)
        seconds = time.perf_counter() - start
        stored = target.stat().st_size
        target.unlink()
    else:
        raise SystemExit(f"unknown variant {variant}")
    print(json.dumps({"seconds": seconds, "rss_before_kb": before, "stored": stored}))


def run_child(variant: str, path: Path, endpoint: str) -> dict[str, float]:
    key = f"bench/{variant}-{time.time_ns()}.mp4"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", variant, "--file", str(path), "--endpoint", endpoint, "--key", key],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{variant} failed ({proc.returncode}): {out[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_kb"] = usage.ru_maxrss  # kilobytes on Linux
    result["growth_mb"] = (usage.ru_maxrss - result["rss_before_kb"]) / 1024
    return result


class MotoServer:
    """A moto S3 server in its own process (its in-memory objects are not ours)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        log = open(VAR / "moto.log", "w")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
                break
            except OSError as exc:
                if getattr(exc, "code", None):  # an HTTP error answer: the server is up
                    break
                time.sleep(0.2)
        import boto3

        boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        ).create_bucket(Bucket=BUCKET)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant; the best time is reported")
    parser.add_argument("--child")
    parser.add_argument("--file")
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--key", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.endpoint, args.key)
        return

    VAR.mkdir(parents=True, exist_ok=True)
    print(machine_note())
    path = make_file(VAR / f"upload-{args.size_mb}mb.mp4", args.size_mb)
    size_mb = path.stat().st_size / MB
    print(f"file: {path} ({size_mb:.0f} MB)")
    moto = MotoServer()
    try:
        results: dict[str, dict[str, float]] = {}
        # Alternate the two S3 variants so neither always gets the warmer server.
        for _ in range(args.rounds):
            for variant in ("boto3", "ours-s3", "fileobj", "ours-fs", "copyfile"):
                result = run_child(variant, path, moto.endpoint)
                assert result["stored"] == path.stat().st_size, (variant, result)
                best = results.get(variant)
                if best is None or result["seconds"] < best["seconds"]:
                    results[variant] = {**result, "growth_mb": max(result["growth_mb"], (best or result)["growth_mb"])}
                print(
                    f"  {variant}: {result['seconds']:.1f} s, peak RSS growth {result['growth_mb']:.1f} MB", flush=True
                )
    finally:
        moto.stop()

    names = {
        "ours-s3": "ours, S3 (moto)",
        "boto3": "boto3 upload_file, S3 (moto)",
        "fileobj": "upload_fileobj + storage TransferConfig, S3 (moto)",
        "ours-fs": "ours, file system",
        "copyfile": "shutil.copyfile (anchor)",
    }
    rows = []
    for variant in ("ours-s3", "boto3", "fileobj", "ours-fs", "copyfile"):
        r = results[variant]
        rows.append(
            [
                names[variant],
                f"{r['seconds']:.1f}",
                f"{size_mb / r['seconds']:.0f}",
                f"{r['growth_mb']:.1f}",
                f"{r['peak_kb'] / 1024:.0f}",
            ]
        )
    print()
    print(table(["variant", "seconds", "MB/s", "peak RSS growth (MB)", "peak RSS (MB)"], rows))
    ratio = results["boto3"]["seconds"] / results["ours-s3"]["seconds"]
    worst = max(results[v]["growth_mb"] for v in ("ours-s3", "ours-fs"))
    print()
    print(
        f"ours / boto3 upload_file throughput: {ratio:.2f}x (target >= {TARGET_RATIO}x) "
        f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}"
    )
    print(
        f"our worst peak RSS growth: {worst:.1f} MB (target < {TARGET_GROWTH_MB:.0f} MB) "
        f"{'PASS' if worst < TARGET_GROWTH_MB else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
