#!/usr/bin/env python3
"""Set-up and start in one command, on a machine with only Python 3.11+.

    python3 dev.py run     # virtualenv + install + demo data + console on http://127.0.0.1:8000/
    python3 dev.py test    # virtualenv + install + the whole test suite (SQLite and PostgreSQL)

Extra arguments after `test` go to pytest; after `run`, to `ironledger serve`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("IRONLEDGER_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit("ironledger needs Python 3.11 or newer.")
    if not (BIN / "python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".ironledger-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        print("installing ironledger and its dependencies", flush=True)
        subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"], check=True)
        stamp.write_text(digest)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test"}:
        sys.exit(__doc__)
    ensure_environment()
    command, rest = sys.argv[1], sys.argv[2:]
    os.chdir(ROOT)
    if command == "test":
        os.execv(str(BIN / "python"), [str(BIN / "python"), "-m", "pytest", *rest])
    subprocess.run([str(BIN / "ironledger"), "demo"], check=True)
    os.execv(str(BIN / "ironledger"), [str(BIN / "ironledger"), "serve", *rest])


if __name__ == "__main__":
    main()
