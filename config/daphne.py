"""Daphne as the product runs it: the stock command line, with large request-body pieces.

    python -m config.daphne -b 127.0.0.1 -p 8000 config.asgi:application

Daphne receives a whole request body first, then hands it to the application in
``request_buffer_size`` pieces, 8 KiB by default and not a command-line flag: a 3 MB
media segment became about 400 ASGI messages, each a queue hop and a buffer write on the
one event loop that also serves every websocket of the process. Pieces of 1 MiB make it
four (bench/ingest_bench.py; docs/benchmarks.md). Everything else is Daphne's own CLI,
so every flag it documents works here.
"""

from __future__ import annotations

from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server

REQUEST_BUFFER_SIZE = 1024 * 1024


class ProductServer(Server):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("request_buffer_size", REQUEST_BUFFER_SIZE)
        super().__init__(*args, **kwargs)


class ProductCommandLine(CommandLineInterface):
    server_class = ProductServer


if __name__ == "__main__":
    ProductCommandLine.entrypoint()
