import shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT/'tools'))
from check_nbs import SKIP  # noqa: E402


def run(cmd, cwd=ROOT, **kw):
    "Run a command, capturing text output."
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, **kw)


@pytest.fixture
def scratch_tree(tmp_path):
    "A copy of the working tree (without .venv, caches or runs) to break on purpose."
    dest = tmp_path/'tree'
    shutil.copytree(ROOT, dest, ignore=lambda d, names: [n for n in names if n in SKIP])
    return dest
