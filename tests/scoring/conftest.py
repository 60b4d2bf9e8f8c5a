"""Puts the repository root on sys.path so `import scoring` works from any rootdir.

Test modules do not import from here (conftest modules are not importable under every
pytest import mode); they spell golden values as `D("88.25")` with `Decimal as D`.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
