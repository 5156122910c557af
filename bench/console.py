#!/usr/bin/env python3
"""Console benchmark: what the facilitators' console costs the runner.

The simulator plays a chat of RATE statuses a minute (default 1,000) for
MINUTES minutes in real time (speed 1: the console's once-a-second snapshot
is then priced honestly per message); `chatkeeper run --observe` follows it
twice, once with --no-console and once with the console and 5 pages reading
its event stream. Prints the runner's CPU per 1,000 statuses captured for
each, the difference (target: within 20%), and what the pages received.
Loopback only; the simulator runs in its own process, so the CPU measured is
the runner's alone.

usage: bench/console.py [--binary build/chatkeeper] [--minutes 3] [--rate 1000] [--pages 5]
                        [--together]"""
import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ckit import Sim, iso, now_ms, read_jsonl  # noqa: E402
from follow import make_script  # noqa: E402


def reader(host, port, key, stats, stop):
    """One open page: reads the event stream until the run ends."""
    try:
        c = http.client.HTTPConnection(host, port, timeout=60)
        c.request("GET", "/api/events", headers={"X-Console-Key": key})
        r = c.getresponse()
        while not stop.is_set():
            chunk = r.read1(65536)
            if not chunk:
                break
            stats["bytes"] += len(chunk)
            stats["events"] += chunk.count(b"event: state")
            stats["patches"] += chunk.count(b"event: patch")
        r.close()
        c.close()
    except (OSError, http.client.HTTPException):
        pass  # the run ended the stream


def one_run(binary, tmp, name, n, minutes, pages, console):
    script = os.path.join(tmp, name + ".script.json")
    make_script(script, n, minutes * 60)
    start = (now_ms() + 4000) // 1000 * 1000
    sim = Sim(binary, script, 1, start)
    session = os.path.join(tmp, name + ".json")
    doc = {"title": "Benchmark", "hashtag": "uklibchat", "timezone": "UTC", "start": iso(start),
           "duration": f"{int(minutes * 60)}s", "lead": "2s", "grace": "10s",
           "platform": {"type": "mastodon", "base_url": sim.base}, "post": False,
           "poll": {"chat": "2s", "quiet": "2s"},
           "questions": [{"at": f"{int(minutes * 60 * i / 6)}s", "text": f"Question {i}"}
                         for i in range(1, 7)]}
    json.dump(doc, open(session, "w"))
    out = os.path.join(tmp, name)
    args = [binary, "run", session, "--observe", "--no-status", "--out", out]
    args += [] if console else ["--no-console"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(out + ".log", "w"),
                            text=True)
    stop = threading.Event()
    stats = [{"bytes": 0, "events": 0, "patches": 0} for _ in range(pages if console else 0)]
    threads = []
    if console:
        line = proc.stdout.readline()
        m = re.search(r"http://([\d.]+):(\d+)/#k=(\S+)", line)
        for s in stats:
            t = threading.Thread(target=reader, args=(m.group(1), int(m.group(2)), m.group(3), s,
                                                      stop), daemon=True)
            t.start()
            threads.append(t)
    proc.stdout.read()
    # This run's CPU alone (the other run may go on beside it: --together).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.stderr.write(open(out + ".log").read()[-2000:])
    stop.set()
    sim.stop()
    cpu = usage.ru_utime + usage.ru_stime
    captured = len({e["object"]["id"] for e in read_jsonl(os.path.join(out, "journal.jsonl"))
                    if e.get("platform") == "mastodon"})
    return rc, cpu, captured, stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/chatkeeper")
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--rate", type=int, default=1000, help="statuses a minute")
    ap.add_argument("--pages", type=int, default=5)
    ap.add_argument("--together", action="store_true",
                    help="run both at once, so a shared machine's load falls on both alike")
    a = ap.parse_args()
    n = int(a.rate * a.minutes)
    tmp = tempfile.mkdtemp(prefix="ck-bench-console-")
    try:
        if a.together:
            res = {}
            ts = [threading.Thread(target=lambda k, c: res.__setitem__(k, one_run(
                a.binary, tmp, k, n, a.minutes, a.pages, c)), args=(k, c))
                for k, c in (("without", False), ("with", True))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            (rc0, cpu0, cap0, _), (rc1, cpu1, cap1, stats) = res["without"], res["with"]
        else:
            rc0, cpu0, cap0, _ = one_run(a.binary, tmp, "without", n, a.minutes, a.pages, False)
            rc1, cpu1, cap1, stats = one_run(a.binary, tmp, "with", n, a.minutes, a.pages, True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    per0 = cpu0 / max(1, cap0) * 1000
    per1 = cpu1 / max(1, cap1) * 1000
    print(f"chat:                {n} statuses over {a.minutes:g} min ({a.rate}/min), real time")
    print(f"without the console: {cpu0:.2f} s CPU, {cap0} captured, {per0:.3f} s per 1,000 "
          f"(exit {rc0})")
    print(f"with {a.pages} pages:        {cpu1:.2f} s CPU, {cap1} captured, {per1:.3f} s per 1,000 "
          f"(exit {rc1})")
    print(f"difference:          {(per1 - per0) / per0 * 100 if per0 else float('nan'):+.1f}% "
          f"(target: within 20%)")
    for i, s in enumerate(stats):
        print(f"page {i + 1}:              {s['events']} state events, {s['patches']} patch events, "
              f"{s['bytes'] / 1e6:.1f} MB")
    return 0 if rc0 == 0 and rc1 == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
