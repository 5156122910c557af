"""What the import tests (test_import*.py here) share: the binary and the
source root from their command line (CHATKEEPER SOURCE_ROOT), checks that
report and go on, running chatkeeper, and reading what it wrote."""
import json
import subprocess
import sys

BIN = sys.argv[1]
ROOT = sys.argv[2] if len(sys.argv) > 2 else None
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(*args, timeout=60):
    """chatkeeper ARGS: (exit status, stdout, stderr)."""
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def finish():
    """Exit 1 if a check failed, saying how many."""
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)
