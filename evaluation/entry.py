"""The `pingyi` console command.

`pingyi serve` runs on gevent, and gevent must patch the standard library before
anything else imports it, so the patch happens here, before the application loads.
"""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        from gevent import monkey

        monkey.patch_all()
    from evaluation.cli import cli

    cli()
