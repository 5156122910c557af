#!/usr/bin/env python3
"""Serve benchmark: N sessions (default 100) at once in one `chatkeeper serve`,
all against one simulator on 127.0.0.1 playing a chat of S statuses, each
session posting its run sheet and following the hashtag, compressed by --speed
like `run --speed`. Sessions start a second apart, so all of them overlap.

Prints: peak RSS of serve (against 15 MB + 1.5 MB per session), CPU seconds per
1,000 statuses captured (summed over every session), posting punctuality (the
worst delay of any step of any session, from state.json, against 1 s), and how
many sessions finished. Loopback only.

usage: bench/serve.py [--binary build/chatkeeper] [--sessions 100] [--statuses 1000]
                      [--speed 20]"""
import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from ckit import Sim, iso, now_ms, read_jsonl  # noqa: E402
from follow import make_script  # noqa: E402

def parse_ms(ts):
    """RFC 3339 with milliseconds and Z, as state.json writes it."""
    import datetime
    return int(datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


STEPS = ["welcome", "Q1", "Q2", "Q3", "Q4", "Q5", "closing"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/chatkeeper")
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--statuses", type=int, default=1000)
    ap.add_argument("--speed", type=float, default=20)
    ap.add_argument("--keep", action="store_true")
    # serve starts its console by default, and with it a live view per running
    # session; the service's own figures are taken without it unless asked.
    ap.add_argument("--console", action="store_true",
                    help="leave serve's console on (a live view per session)")
    a = ap.parse_args()
    chat_s = 20 * 60
    tmp = tempfile.mkdtemp(prefix="ck-bench-serve-")
    script = os.path.join(tmp, "script.json")
    make_script(script, a.statuses, chat_s)
    first = (now_ms() + 8000) // 1000 * 1000
    # Every session reads the same simulator: its rate limit is per server here,
    # so it is lifted (the follow benchmark measures politeness).
    sim = Sim(a.binary, script, a.speed, first, "--rate-limit", "100000000")
    archive = os.path.join(tmp, "archive")
    # Each session is another community's: a folder of its own, as a host
    # would keep them. (One folder for all would make each build re-render
    # every other session of the tag: "returning participants" across a
    # hundred sessions of one day, which no real series has.)
    status = os.path.join(archive, "serve-status.json")
    files = []
    for i in range(a.sessions):
        start = first + 1000 * i
        doc = {"title": f"Bench {i:03d}", "hashtag": "uklibchat", "timezone": "UTC",
               "start": iso(start), "duration": "20m", "lead": "1m", "grace": "2m",
               "platform": {"type": "mastodon", "base_url": sim.base,
                            "token_env": "CK_BENCH_TOKEN", "streaming": False},
               "post": True, "archive_dir": os.path.join(archive, f"c{i:03d}"),
               "poll": {"chat": "5s", "quiet": "20s"},
               "welcome": {"at": "0m", "text": "Welcome"},
               "questions": [{"at": f"{3 * q}m", "text": f"Question {q}?"} for q in range(1, 6)],
               "closing": {"at": "18m", "text": "Thanks"}}
        path = os.path.join(tmp, f"s{i:03d}.json")
        json.dump(doc, open(path, "w"))
        files.append(path)
    timefile = os.path.join(tmp, "time.txt")
    log = open(os.path.join(tmp, "serve.log"), "w")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", "-o", timefile, a.binary, "serve", *files,
                          "--speed", str(a.speed), "--status-file", status,
                          *([] if a.console else ["--no-console"])], stdout=log,
                         stderr=subprocess.STDOUT, env=dict(os.environ, CK_BENCH_TOKEN="bench-token"))
    deadline = time.time() + 600 + (23 * 60 + a.sessions) / a.speed
    done = 0
    while time.time() < deadline and p.poll() is None:
        try:
            done = len(json.load(open(status)).get("finished", []))
        except (OSError, ValueError):
            pass
        if done >= a.sessions:
            break
        time.sleep(1)
    wall = time.time() - t0
    # /usr/bin/time's child is serve: SIGTERM goes to serve itself.
    serve_pid = int(subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True,
                                   text=True).stdout.split()[0])
    os.kill(serve_pid, signal.SIGTERM)
    rc = p.wait(60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    fields = open(timefile).read().split()[-3:]
    rss_mb = int(fields[0]) / 1024
    serve_cpu = float(fields[1]) + float(fields[2])
    posts = sim.get("/sim/stats")["posts_created"]
    # When the server made each post: what the chat saw, apart from how long
    # serve's loop took to read the answer (which state.json's delay_ms adds).
    made = {s["id"]: s["created_ms"] for s in sim.get("/sim/statuses") if s.get("posted")}
    sim.stop()
    captured, delays, missing, seen = 0, [], 0, []
    dirs = [os.path.join(archive, c, n) for c in sorted(os.listdir(archive))
            if os.path.isdir(os.path.join(archive, c)) for n in os.listdir(os.path.join(archive, c))]
    for d in dirs:
        if not os.path.isdir(d):
            continue
        captured += len(read_jsonl(os.path.join(d, "messages.jsonl")))
        steps = json.load(open(os.path.join(d, "state.json"))).get("steps", {})
        for k in STEPS:
            if steps.get(k, {}).get("status") == "posted":
                delays.append(steps[k]["delay_ms"])
                due = parse_ms(steps[k]["posted_at"]) - steps[k]["delay_ms"]
                if steps[k].get("id") in made:
                    seen.append(made[steps[k]["id"]] - due)
            else:
                missing += 1
    delays.sort()
    seen.sort()
    target = 15 + 1.5 * a.sessions
    print(f"sessions:     {a.sessions} overlapping (starts 1 s apart), {done} finished; "
          f"{a.statuses} statuses each over 20 min at {a.speed:g}x ({wall:.0f} s wall); "
          f"serve exit {rc} on SIGTERM")
    print(f"peak RSS:     {rss_mb:.1f} MB ({(rss_mb - 15) / a.sessions:.2f} MB per session "
          f"beyond 15 MB); target <= {target:.0f} MB")
    print(f"CPU:          serve {serve_cpu:.1f} s for {captured} statuses captured (all "
          f"sessions): {serve_cpu / max(1, captured) * 1000:.3f} s per 1,000 "
          f"(with the simulator: {cpu:.1f} s)")
    if delays:
        print(f"punctuality:  {len(delays)} steps posted ({posts} on the server), {missing} not; "
              f"delay p50 {delays[len(delays) // 2]} ms, p99 "
              f"{delays[min(len(delays) - 1, len(delays) * 99 // 100)]} ms, "
              f"max {delays[-1]} ms (answer read); target every step <= 1000 ms")
    if seen:
        print(f"              made on the server: p50 {seen[len(seen) // 2]} ms, p99 "
              f"{seen[min(len(seen) - 1, len(seen) * 99 // 100)]} ms, max {seen[-1]} ms late")
    if a.keep:
        print("kept", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = rc == 0 and done >= a.sessions and missing == 0 and posts == len(delays)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
