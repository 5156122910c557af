#!/usr/bin/env python3
"""Follow benchmark: a 2-hour chat of 20,000 statuses, played by the simulator at
a high speed-up, followed by the real `chatkeeper run`. Everything is compressed
by the same factor (the chat, the poll interval, the rate-limit window), so the
request counts and CPU are those of the real-time chat.

Prints: CPU seconds per 1,000 statuses captured, peak RSS, HTTP requests per 100
statuses (against the target of one per poll plus one per 40 new statuses),
capture delay p50/p95 (status visible -> on disk), and what the CPU would cost in
real time. Loopback only.

With --streaming the run follows the simulator's live stream (server-sent
events) with the timeline as the check; the capture delay is then the real
latency of the stream (not scaled by the speed-up), and the requests count the
stream's connections too. Without it the run polls only ("streaming": false).

usage: bench/follow.py [--binary build/chatkeeper] [--statuses 20000] [--speed 60] [--streaming]"""
import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from ckit import Sim, iso, now_ms, read_jsonl  # noqa: E402

WORDS = ("library archive catalogue community network mastodon fediverse reading list cpd "
         "mentor outreach students staff digital skills chat colleagues conference blog "
         "podcast newsletter instance moderation hashtag thread").split()


def make_script(path, n, chat_s, seed=1):
    rng = random.Random(seed)
    accounts = {"host": {"username": "uklibchat", "domain": None, "display_name": "#uklibchat"}}
    for i in range(400):
        accounts[f"a{i}"] = {"username": f"user{i}", "domain": rng.choice(
            ["glammr.us", "mastodon.social", "libraryland.social", None]),
            "display_name": f"Person {i}"}
    statuses = []
    for i in range(n):
        t = chat_s * i / n
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        q = min(6, int(t / (chat_s / 6)) + 1)
        if rng.random() < 0.25:
            text = f"A{q} {text}"
        st = {"key": f"s{i}", "at": f"{int(t)}s", "account": f"a{rng.randrange(400)}",
              "text": f"{text} #uklibchat"}
        if i > 10 and rng.random() < 0.4:
            st["reply_to"] = f"s{rng.randrange(max(0, i - 200), i)}"
        statuses.append(st)
    doc = {"title": "Benchmark", "hashtag": "uklibchat", "self": "host", "accounts": accounts,
           "questions": [f"Question {i}" for i in range(1, 7)], "statuses": statuses}
    with open(path, "w") as f:
        json.dump(doc, f)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/chatkeeper")
    ap.add_argument("--statuses", type=int, default=20000)
    ap.add_argument("--speed", type=float, default=60)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--streaming", action="store_true",
                    help="follow the live stream (the timeline as the check)")
    a = ap.parse_args()
    chat_s = 2 * 3600
    tmp = tempfile.mkdtemp(prefix="ck-bench-follow-")
    script = os.path.join(tmp, "script.json")
    make_script(script, a.statuses, chat_s)
    start = (now_ms() + 3000) // 1000 * 1000
    window_s = 300  # the rate-limit window (5 minutes), compressed like everything else
    sim = Sim(a.binary, script, a.speed, start, "--rate-limit", "300",
              "--rate-window", f"{int(window_s * 1000 / a.speed)}ms")
    session = os.path.join(tmp, "session.json")
    doc = {"title": "Benchmark", "hashtag": "uklibchat", "timezone": "UTC", "start": iso(start),
           "duration": "2h", "lead": "1m", "grace": "5m",
           "platform": {"type": "mastodon", "base_url": sim.base, "streaming": a.streaming},
           "post": False,
           "questions": [{"at": f"{20 * i}m", "text": f"Question {i}"} for i in range(1, 6)]}
    json.dump(doc, open(session, "w"))
    out = os.path.join(tmp, "out")
    poll_ms = max(10, int(5000 / a.speed))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    # /usr/bin/time reports the run's own peak: a child's ru_maxrss would carry
    # this Python process's RSS over from the fork.
    timefile = os.path.join(tmp, "time.txt")
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", timefile, a.binary, "run", session, "--observe", "--no-status", "--out", out,
                        "--speed", str(a.speed), "--start", iso(start), "--poll", f"{poll_ms}ms"],
                       stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "run.log"), "w"))
    wall = time.time() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss_mb = int(open(timefile).read().split()[-1]) / 1024
    statuses = {s["id"]: s for s in sim.get("/sim/statuses")}
    all_reqs = sim.get("/sim/requests")
    reqs = [q for q in all_reqs if "/timelines/tag/" in q["path"]]
    streams = [q for q in all_reqs if q["path"].startswith("/api/v1/streaming/")]
    sim.stop()
    journal = read_jsonl(os.path.join(out, "journal.jsonl"))
    delays = []
    seen = set()
    for e in journal:
        s = statuses.get(e["object"]["id"])
        if s is not None and s["id"] not in seen and e["source"] in ("timeline", "stream"):
            seen.add(s["id"])
            fetched = datetime.fromisoformat(e["fetched_at"].replace("Z", "+00:00")).timestamp()
            delays.append(fetched * 1000 - s["visible_ms"])
    captured = len({e["object"]["id"] for e in journal})
    run_s = (2 * 3600 + 6 * 60) / a.speed
    polls = run_s * 1000 / poll_ms
    print(f"chat:               {a.statuses} statuses over 2h, played at {a.speed:g}x "
          f"({wall:.1f} s wall), exit {r.returncode}")
    print(f"captured:           {captured} statuses ({len(journal)} journal lines)")
    print(f"CPU:                {cpu:.2f} s total, {cpu / max(1, captured) * 1000:.3f} s per 1,000 "
          f"statuses; real-time 2 h chat: {cpu / 7200 * 100:.3f}% of one core")
    follow_rss = "?"
    for line in open(os.path.join(tmp, "run.log")):
        if "following done; peak RSS" in line:
            follow_rss = line.rsplit("peak RSS", 1)[1].strip()
    print(f"peak RSS:           {follow_rss} while following; {rss_mb:.1f} MB for the whole run "
          f"(the archive at the end included)")
    print(f"HTTP requests:      {len(reqs)} ({len(reqs) / max(1, captured) * 100:.2f} per 100 "
          f"statuses); target <= polls + statuses/40 = {polls:.0f} + {captured / 40:.0f} "
          f"= {polls + captured / 40:.0f}")
    if a.streaming:
        n_stream = sum(1 for e in journal if e["source"] == "stream")
        print(f"streaming:          {len(streams)} stream connection(s); {n_stream} of {captured} "
              f"statuses came from the stream, the rest from the timeline check")
        print(f"capture delay:      p50 {pct(delays, 50):.0f} ms, p95 {pct(delays, 95):.0f} ms "
              f"(streaming: real latency, not scaled; target p95 <= 1000 ms)")
    else:
        print(f"capture delay:      p50 {pct(delays, 50):.0f} ms, p95 {pct(delays, 95):.0f} ms as "
              f"run (poll every {poll_ms} ms); x{a.speed:g} in real-time terms: "
              f"p50 {pct(delays, 50) * a.speed / 1000:.1f} s, "
              f"p95 {pct(delays, 95) * a.speed / 1000:.1f} s")
    if a.keep:
        print("kept", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if r.returncode == 0 and captured >= a.statuses else 1


if __name__ == "__main__":
    sys.exit(main())
