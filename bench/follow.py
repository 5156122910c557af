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

With --platform x the run follows the simulator's X mode (simulate --x:
search/recent, conversation_id threads) with an app bearer token, alone
(--sources is ignored); X bills every post a search returns, so the posts the
simulator's X routes returned are printed beside the requests.

With --platform bluesky the run follows the simulator's Bluesky side (XRPC:
createSession, searchPosts, getPostThread) instead; it polls (Bluesky has no
live stream here). With --sources 2 or 3 the session lists several sources
("platforms"), each on a simulator process of its own (its own rate limit), all
playing the same script: --sources 2 is the platform and the other one,
--sources 3 two Mastodon instances and one Bluesky (the --platform one first).
With both platforms the simulators give 40% of the participants to Bluesky and
the rest to Mastodon (--bluesky-share 0.4, as `run --rehearse` does), and every
participant's account has a domain of its own, so a status seen on both
Mastodon instances has one uri and the archive merges it. Requests are counted
on every simulator; the capture delay is given per source (a stream's delay and
a poll's are not the same measure) and, when every source polls, for the
session (first capture on any source).

usage: bench/follow.py [--binary build/chatkeeper] [--statuses 20000] [--speed 60] [--streaming]
                       [--platform mastodon|bluesky|x] [--sources 1..3]"""
import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from ckit import Sim, iso, now_ms, read_jsonl  # noqa: E402

WORDS = ("library archive catalogue community network mastodon fediverse reading list cpd "
         "mentor outreach students staff digital skills chat colleagues conference blog "
         "podcast newsletter instance moderation hashtag thread").split()


def print_cost(cpu, captured, tmp, rss_mb, child_peak):
    """The run's CPU and memory lines, the same for every mode."""
    print(f"CPU:                {cpu:.2f} s total, {cpu / max(1, captured) * 1000:.3f} s per 1,000 "
          f"statuses; real-time 2 h chat: {cpu / 7200 * 100:.3f}% of one core")
    follow_rss = "?"
    for line in open(os.path.join(tmp, "run.log")):
        if "following done; peak RSS" in line:
            follow_rss = line.rsplit("peak RSS", 1)[1].strip()
    print(f"peak RSS:           {follow_rss} while following; {rss_mb:.1f} MB for the whole run "
          f"(the archive at the end included)")
    print(f"peak RSS builds:    {child_peak.line()}")


def console_args(a):
    """run starts the console by default; the follow figures leave it out."""
    return [] if a.console else ["--no-console"]


def make_script(path, n, chat_s, seed=1, remote_only=False):
    rng = random.Random(seed)
    accounts = {"host": {"username": "uklibchat", "domain": None, "display_name": "#uklibchat"}}
    for i in range(400):
        domain = rng.choice(["glammr.us", "mastodon.social", "libraryland.social", None])
        if remote_only and domain is None:
            # Two simulators would each call a local account's status theirs
            # (a uri under their own address): one chat would become two.
            domain = "uklib.example"
        accounts[f"a{i}"] = {"username": f"user{i}", "domain": domain,
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


class ChildPeak:
    """The peak RSS (VmHWM) of the run's own child processes (the refresh
    builds, `chatkeeper archive DIR`), polled from /proc every 10 ms while the
    run lasts: /usr/bin/time's figure is the run's alone, and RUSAGE_CHILDREN
    would carry the run's RSS over the fork. A build shorter than a poll can be
    missed; the figure is a lower bound."""

    def __init__(self, proc):
        self.proc, self.kb, self.builds = proc, 0, set()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    @staticmethod
    def kids(pid):
        out = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                try:
                    out += [int(x) for x in open(f"/proc/{pid}/task/{task}/children").read().split()]
                except OSError:
                    pass
        except OSError:
            pass
        return out

    def poll(self):
        while self.proc.poll() is None:
            for run in self.kids(self.proc.pid):  # /usr/bin/time -> chatkeeper run
                for kid in self.kids(run):
                    try:
                        for line in open(f"/proc/{kid}/status"):
                            if line.startswith("VmHWM:"):
                                self.kb = max(self.kb, int(line.split()[1]))
                                self.builds.add(kid)
                    except (OSError, ValueError):
                        pass
            time.sleep(0.01)

    def line(self):
        self.thread.join()
        if not self.builds:
            return "no child process seen (the refreshes were built in the run's own process)"
        return (f"{self.kb / 1024:.1f} MB at most in the run's child processes ({len(self.builds)} "
                f"refresh builds seen; polled, a lower bound)")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def follow_one_mastodon(a):
    """One Mastodon source: the benchmark as it always was (same output)."""
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
    r = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", timefile, a.binary, "run", session, "--observe", "--no-status", *console_args(a), "--out", out,
                          "--speed", str(a.speed), "--start", iso(start), "--poll", f"{poll_ms}ms"],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "run.log"), "w"))
    child_peak = ChildPeak(r)
    r.wait()
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
    print_cost(cpu, captured, tmp, rss_mb, child_peak)
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


OTHER = {"mastodon": "bluesky", "bluesky": "mastodon"}


def source_types(platform, n):
    """The sources' types, the --platform one first: 2 is that and the other
    platform; 3 is two Mastodon instances and one Bluesky."""
    if n == 1 or platform == "x":
        return [platform]
    if n == 2:
        return [platform, OTHER[platform]]
    return ["mastodon", "mastodon", "bluesky"] if platform == "mastodon" else \
        ["bluesky", "mastodon", "mastodon"]


def kind_of(path):
    """What a logged request was, by its path (the query left off)."""
    p = path.split("?", 1)[0]
    if p.startswith("/sim/"):
        return None
    if "/timelines/tag/" in p:
        return "timeline"
    if p.startswith("/api/v1/streaming/"):
        return "stream"
    if p.endswith("/context"):
        return "context"
    if p == "/2/tweets/search/recent":
        return "thread" if "query=conversation_id" in path else "search"
    if p.startswith("/2/"):
        return "other"
    if p == "/xrpc/app.bsky.feed.searchPosts":
        return "search"
    if p == "/xrpc/app.bsky.feed.getPostThread":
        return "thread"
    if p in ("/xrpc/com.atproto.server.createSession", "/xrpc/com.atproto.server.refreshSession"):
        return "sign-in"
    return "other"


def follow_sources(a):
    """Bluesky alone, or several sources: each source on a simulator of its own."""
    chat_s = 2 * 3600
    types = source_types(a.platform, a.sources)
    mixed = len(set(types)) > 1
    if a.streaming and "mastodon" not in types:
        print("streaming:          not measurable: Bluesky has no live stream here (the run "
              "polls searchPosts); run without --streaming")
        return 2
    tmp = tempfile.mkdtemp(prefix="ck-bench-follow-")
    script = os.path.join(tmp, "script.json")
    make_script(script, a.statuses, chat_s, remote_only=a.sources > 1)
    start = (now_ms() + 3000) // 1000 * 1000
    window_s = 300
    share = ["--bluesky-share", "0.4"] if mixed else []
    sims = []
    try:
        for _ in types:
            sims.append(Sim(a.binary, script, a.speed, start, "--rate-limit", "300",
                            "--rate-window", f"{int(window_s * 1000 / a.speed)}ms", *share,
                            *(["--x"] if types[len(sims)] == "x" else [])))
    except Exception:
        for sm in sims:
            sm.stop()
        raise
    entries = []
    for i, (t, sm) in enumerate(zip(types, sims)):
        if t == "mastodon":
            e = {"type": "mastodon", "base_url": sm.base, "streaming": a.streaming}
        elif t == "x":
            e = {"type": "x", "base_url": sm.base, "token_env": "CK_BENCH_X"}
        else:
            e = {"type": "bluesky", "base_url": sm.base, "handle": "uklibchat.bsky.social",
                 "password_env": "CK_BENCH_PW"}
        e["name"] = f"{t}{i + 1}"
        entries.append(e)
    doc = {"title": "Benchmark", "hashtag": "uklibchat", "timezone": "UTC", "start": iso(start),
           "duration": "2h", "lead": "1m", "grace": "5m", "post": False,
           "questions": [{"at": f"{20 * i}m", "text": f"Question {i}"} for i in range(1, 6)]}
    if len(entries) == 1:
        doc["platform"] = entries[0]
    else:
        doc["platforms"] = entries
    session = os.path.join(tmp, "session.json")
    json.dump(doc, open(session, "w"))
    out = os.path.join(tmp, "out")
    poll_ms = max(10, int(5000 / a.speed))
    env = dict(os.environ, CK_BENCH_PW="bench-app-password", CK_BENCH_X="bench-bearer")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    timefile = os.path.join(tmp, "time.txt")
    r = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", timefile, a.binary, "run", session,
                          "--observe", "--no-status", *console_args(a), "--out", out, "--speed", str(a.speed),
                          "--start", iso(start), "--poll", f"{poll_ms}ms"],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "run.log"), "w"),
                         env=env)
    child_peak = ChildPeak(r)
    r.wait()
    wall = time.time() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss_mb = int(open(timefile).read().split()[-1]) / 1024
    # The simulators play the same script from the same start: the same statuses
    # under the same ids and record keys on each (checked, not assumed).
    views = [sm.get("/sim/statuses") for sm in sims]
    logs = [sm.get("/sim/requests") for sm in sims]
    stats = [sm.get("/sim/stats") for sm in sims]
    for sm in sims:
        sm.stop()
    same = all([(x["id"], x["rkey"], x["key"]) for x in v] ==
               [(x["id"], x["rkey"], x["key"]) for x in views[0]] for v in views)
    by_id = {x["id"]: x for x in views[0]}
    by_rkey = {x["rkey"]: x for x in views[0]}
    journal = read_jsonl(os.path.join(out, "journal.jsonl"))
    names = [e["name"] for e in entries]
    # (source, key) -> (fetched ms, how, status) of its first capture there by the
    # timeline/search or the stream; ("any", key) the first on any source.
    first = {}
    captured = set()      # script statuses in the journal, however they came
    captured_by = {n: set() for n in names}
    unmatched = 0
    for e in journal:
        src = e.get("from", names[0])
        obj = e["object"]
        if src in names and types[names.index(src)] in ("mastodon", "x"):
            st = by_id.get(obj.get("id"))
        else:
            uri = obj.get("uri") or (obj.get("post") or {}).get("uri") or ""
            st = by_rkey.get(uri.rsplit("/", 1)[-1]) if "/app.bsky.feed.post/" in uri else None
        if st is None or st["key"] is None:
            unmatched += 1
            continue
        captured.add(st["key"])
        captured_by.setdefault(src, set()).add(st["key"])
        if e["source"] not in ("timeline", "stream"):
            continue
        fetched = datetime.fromisoformat(e["fetched_at"].replace("Z", "+00:00")).timestamp() * 1000
        first.setdefault((src, st["key"]), (fetched, e["source"], st))
        first.setdefault(("any", st["key"]), (fetched, e["source"], st))
    on = {t: sum(1 for x in views[0] if x["home"] in ("both", t)) for t in ("mastodon", "bluesky")}
    on["x"] = sum(1 for x in views[0] if x["key"] is not None)
    run_s = (2 * 3600 + 6 * 60) / a.speed
    polls = run_s * 1000 / poll_ms
    print(f"chat:               {a.statuses} statuses over 2h, played at {a.speed:g}x "
          f"({wall:.1f} s wall), exit {r.returncode}")
    print(f"sources:            {len(types)}: " + ", ".join(
        f"{n} ({sm.base}{', streaming' if t == 'mastodon' and a.streaming else ''})"
        for n, t, sm in zip(names, types, sims)) + (
        "; 40% of the participants on Bluesky, the rest on Mastodon" if mixed else ""))
    if not same:
        print("WARNING:            the simulators do not hold the same statuses; the matching "
              "below is not to be trusted")
    archived = len(read_jsonl(os.path.join(out, "messages.jsonl")))
    print(f"captured:           {len(captured)} of {a.statuses} statuses ({len(journal)} journal "
          f"lines, {unmatched} not matched to a script status); the archive has {archived} "
          f"messages")
    print_cost(cpu, len(captured), tmp, rss_mb, child_peak)
    total = 0
    reads_all = 0
    for n, t, log, stt in zip(names, types, logs, stats):
        kinds = {}
        for q in log:
            kd = kind_of(q["path"])
            if kd is not None:
                kinds[kd] = kinds.get(kd, 0) + 1
        api = sum(kinds.values())
        total += api
        reads = kinds.get("timeline" if t == "mastodon" else "search", 0)
        reads_all += reads
        got = len(captured_by[n])
        print(f"requests {n + ':':11}{api} ({api / max(1, got) * 100:.2f} per 100 of the {got} "
              f"statuses it captured of {on[t]} it shows): " +
              ", ".join(f"{kd} {c}" for kd, c in sorted(kinds.items())) +
              f"; reads target <= polls + statuses/40 = {polls:.0f} + {got / 40:.0f}"
              f"; rate-limited {stt['rate_limited']}")
        if t == "x":
            pr = stt.get("x_posts_read", 0)
            print(f"X billing {n + ':':10}{pr} posts read ({pr / max(1, got) * 100:.1f} per 100 "
                  f"captured) in {api} requests ({api / max(1, got) * 100:.2f} per 100)")
    print(f"HTTP requests:      {total} on all simulators ({total / max(1, len(captured)) * 100:.2f} "
          f"per 100 statuses captured); of them {reads_all} timeline/search reads "
          f"({reads_all / max(1, len(captured)) * 100:.2f} per 100)")
    delays_any = []
    for n, t in zip(names, types):
        d = [v[0] - v[2]["visible_ms"] for k, v in first.items() if k[0] == n]
        how = {v[1] for k, v in first.items() if k[0] == n}
        if "stream" in how:
            note = (f"{sum(1 for k, v in first.items() if k[0] == n and v[1] == 'stream')} from "
                    f"the stream: a mix of real stream latency and scaled timeline delay")
        else:
            note = (f"polled every {poll_ms} ms; x{a.speed:g} in real-time terms: "
                    f"p50 {pct(d, 50) * a.speed / 1000:.1f} s, p95 {pct(d, 95) * a.speed / 1000:.1f} s")
        print(f"delay {n + ':':14}p50 {pct(d, 50):.0f} ms, p95 {pct(d, 95):.0f} ms as run ({note})")
    if a.streaming:
        print("capture delay:      session-wide figure not given: stream latency (real time) and "
              "poll delay (scaled by the speed-up) are not one measure; see per source above")
    else:
        delays_any = [v[0] - v[2]["visible_ms"] for k, v in first.items() if k[0] == "any"]
        print(f"capture delay:      p50 {pct(delays_any, 50):.0f} ms, p95 "
              f"{pct(delays_any, 95):.0f} ms as run (first capture on any source, poll every "
              f"{poll_ms} ms); x{a.speed:g} in real-time terms: "
              f"p50 {pct(delays_any, 50) * a.speed / 1000:.1f} s, "
              f"p95 {pct(delays_any, 95) * a.speed / 1000:.1f} s")
    if a.keep:
        print("kept", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if r.returncode == 0 and len(captured) >= a.statuses and same else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/chatkeeper")
    ap.add_argument("--statuses", type=int, default=20000)
    ap.add_argument("--speed", type=float, default=60)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--console", action="store_true",
                    help="keep the facilitators' console on (run's default); without it the "
                         "figures are the follower's alone")
    ap.add_argument("--streaming", action="store_true",
                    help="follow the live stream (the timeline as the check)")
    ap.add_argument("--platform", choices=("mastodon", "bluesky", "x"), default="mastodon",
                    help="the (first) source's platform")
    ap.add_argument("--sources", type=int, choices=(1, 2, 3), default=1,
                    help="how many sources the session follows at once")
    a = ap.parse_args()
    if a.platform == "mastodon" and a.sources == 1:
        return follow_one_mastodon(a)
    return follow_sources(a)


if __name__ == "__main__":
    sys.exit(main())
