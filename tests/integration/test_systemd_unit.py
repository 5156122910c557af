"""config/systemd/chatkeeper.service: the hardening the README promises is
there, and systemd itself (systemd-analyze verify, when installed) reads every
line without a warning, with ExecStart pointing at the binary under test.
usage: test_systemd_unit.py CHATKEEPER UNIT"""
import os
import shutil
import subprocess
import sys
import tempfile

BIN, UNIT = sys.argv[1], sys.argv[2]

REQUIRED = {
    "Service": {
        "DynamicUser": "yes", "ProtectSystem": "strict", "StateDirectory": "chatkeeper",
        "Restart": "on-failure", "NoNewPrivileges": "yes", "ProtectHome": "yes",
        "PrivateTmp": "yes", "KillSignal": "SIGTERM", "CapabilityBoundingSet": "",
        "Type": "notify", "SystemCallErrorNumber": "EPERM",
    },
    "Install": {"WantedBy": "multi-user.target"},
}


def parse(path):
    # systemd allows a key more than once (SystemCallFilter), which configparser
    # refuses: a line parser keeping them all.
    keys = {}
    section = None
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        keys.setdefault((section, k), []).append(v)
    return keys


def main():
    failed = []
    keys = parse(UNIT)
    for sec, want in REQUIRED.items():
        for k, v in want.items():
            got = keys.get((sec, k))
            if got is None or got[-1] != v:
                failed.append(f"[{sec}] {k}={v} (got {got})")
    execs = keys.get(("Service", "ExecStart"), [""])
    if " serve " not in execs[0] + " ":
        failed.append(f"ExecStart does not run serve: {execs}")
    creds = keys.get(("Service", "LoadCredential"), []) + keys.get(("Service", "EnvironmentFile"), [])
    if not creds:
        failed.append("no LoadCredential= or EnvironmentFile= for the token")
    if keys.get(("Service", "ExecReload"), [""])[0].find("-HUP") < 0:
        failed.append("ExecReload does not send SIGHUP (serve reads its files again on it)")
    tool = shutil.which("systemd-analyze")
    if tool is None:
        print("systemd-analyze not installed: checked the keys only")
    else:
        tmp = tempfile.mkdtemp(prefix="ck-unit-")
        try:
            unit = os.path.join(tmp, "chatkeeper.service")
            text = open(UNIT).read().replace("/usr/local/bin/chatkeeper", os.path.abspath(BIN))
            open(unit, "w").write(text)
            p = subprocess.run([tool, "verify", unit], capture_output=True, text=True, timeout=60)
            out = (p.stdout + p.stderr).strip()
            if p.returncode != 0 or out:
                failed.append(f"systemd-analyze verify: exit {p.returncode}: {out}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    for f in failed:
        print("FAIL", f)
    print(f"{0 if failed else 1} passed, {1 if failed else 0} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
