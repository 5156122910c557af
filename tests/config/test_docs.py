"""What the README and docs/ promise a newcomer, held to the code: the demo
installs only what building and running need (the test servers come with
scripts/test).
usage: test_docs.py CHATKEEPER SOURCE_ROOT [test names]"""
import os
import re
import shutil
import subprocess
import sys

BIN, ROOT = sys.argv[1], sys.argv[2]
def test_demo_installs_no_test_servers():
    deps = os.path.join(ROOT, "scripts", "deps.sh")
    run = subprocess.run([deps, "--list"], capture_output=True, text=True, check=True)
    build = run.stdout.split()
    full = subprocess.run([deps, "--test", "--list"], capture_output=True, text=True,
                          check=True).stdout.split()
    servers = re.compile(r"^(wordpress|mariadb|mysql|php|apache2|nginx|lighttpd)")
    assert not [p for p in build if servers.match(p)], build
    assert set(build) <= set(full), set(build) - set(full)
    assert {"wordpress", "php-cli", "mariadb-server-core"} <= set(full), full
    # MariaDB's server and client programs, not the package that runs a service.
    assert "mariadb-server" not in full and "default-mysql-server" not in full, full
    assert "zlib1g-dev" in build, build
    # What apt would bring in with the build list (when apt's lists are here).
    if shutil.which("apt-cache"):
        r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends",
                            "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
                            "--no-enhances", *build], capture_output=True, text=True)
        pulled = {line.strip("<> ") for line in r.stdout.splitlines()
                  if line and not line.startswith(" ")}
        if r.returncode == 0 and len(pulled) > len(build):
            bad = sorted(p for p in pulled if servers.match(p))
            assert not bad, f"the demo's packages pull {bad}"


if __name__ == "__main__":
    names = sys.argv[3:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("ok", name)
