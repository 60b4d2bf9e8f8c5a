"""The `pingyi` console command.

`pingyi serve` runs on gevent, and gevent must patch the standard library before
anything else imports it, so the patch happens here, before the application loads.
"""

from __future__ import annotations

import gc
import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        # No cyclic garbage collection while the application loads: its ~270,000 objects
        # all live until the process ends, and the ~390 collections the default thresholds
        # bring while importing cost ~0.2 s of CPU, a fifth of a start-up that every tablet
        # waits for after a crash. evaluation.serve.settle_garbage_collector freezes what
        # was loaded and turns collection back on once the server listens.
        gc.disable()
        from gevent import monkey

        monkey.patch_all()
    from evaluation.cli import cli
    from evaluation.config import ConfigError

    try:
        cli()
    except ConfigError as error:
        # A configuration that cannot start (no SECRET_KEY, a secret given twice, a key file
        # other users can read): the operator needs the sentence, not a traceback.
        sys.exit(f"pingyi: {error}")
