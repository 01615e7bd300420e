"""deploy/nginx.conf as documented, run for real on loopback: in front of the scale-out test's two Daphnes
(tests/foundation/test_run_scaled.py) and of the meeting benchmark's one (bench/meeting_bench.py).

Plain HTTP (no certificate here), its upstream pointed at the given ports, /static/ served from the
given folder (collectstatic's output), its workers run as this user, its files in a folder of the
caller's. Needs the `nginx` binary (apt-get install nginx-light).
"""

from __future__ import annotations

import getpass
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from loadtest.stack import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")  # Debian's nginx-common


@contextmanager
def nginx(tmp: Path, ports: list[int], static: Path) -> Iterator[int]:
    """The documented site in front of 127.0.0.1:`ports` for the block; yields the port it listens on,
    once it answers. Its access log names the upstream of each request (`tmp`/access.log)."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    listen = free_port()
    site = re.sub(r"    server 127\.0\.0\.1:800\d[^\n]*\n", "", site)
    site = site.replace(
        "upstream liverec_web {\n",
        "upstream liverec_web {\n" + "".join(f"    server 127.0.0.1:{port};\n" for port in ports),
    )
    site = re.sub(r"listen 443 ssl[^\n]*\n", f"listen 127.0.0.1:{listen};\n", site)
    site = re.sub(r"\n\s*ssl_certificate[^\n]*", "", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    # collectstatic's output, here the caller's folder (the documented alias, pointed elsewhere).
    if "alias /var/lib/liverec/static/;" not in site:
        raise RuntimeError("deploy/nginx.conf no longer serves /static/ from /var/lib/liverec/static/")
    site = site.replace("alias /var/lib/liverec/static/;", f"alias {static}/;")
    (tmp / "site.conf").write_text(site)
    temp = " ".join(f"{kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp / "nginx.conf").write_text(
        # Workers as this user: the static folder may be in a private temporary directory.
        f"daemon off; user {getpass.getuser()}; pid {tmp / 'nginx.pid'}; error_log {tmp / 'error.log'};\n"
        # The stock nginx.conf, which includes conf.d/ where the site goes, gives the MIME types (a module
        # script served as text/plain is refused).
        f"events {{}}\nhttp {{ include {MIME_TYPES}; log_format upstream '$request_uri $upstream_addr'; "
        f"access_log {tmp / 'access.log'} upstream; {temp} include {tmp / 'site.conf'}; }}\n"
    )
    proc = subprocess.Popen([NGINX, "-c", str(tmp / "nginx.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{listen}/login/", timeout=30)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield listen
    finally:
        proc.terminate()
        proc.wait(timeout=60)
