"""End to end: the real `chatkeeper run` follows the real simulator.

Each test plays the shipped 90-minute #uklibchat script at 300x (about 25 s),
or 600x where nothing is timed in wall-clock seconds (about 13 s), and checks that every tagged status the simulator showed in the session window
is in messages.jsonl exactly once, through faults, kill -9, SIGTERM and 429s.
usage: test_follow.py CHATKEEPER SCRIPT [test names]"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from ckit import (SimSession, burn_until_429, check, check_quiet_until_reset,  # noqa: E402
                  expected_ids, iso, now_ms, run_tests, scenario_of, wait_until,
                  write_session)

BIN, SCRIPT = sys.argv[1], sys.argv[2]
SPEED = 300
# Scenarios that time nothing in real seconds (no stream check interval, no
# rate-limit window) play the chat twice as fast: what they prove is that every
# status is captured exactly once, and the final sweep makes that independent of
# the speed, while halving the suite's waiting.
FAST = 600
LEAD_MS, DURATION_MS, GRACE_MS = 15 * 60000, 90 * 60000, 30 * 60000


class Session(SimSession):
    """A session file in script time; `run --speed` compresses it like the simulator.
    streaming=False: for tests of how polls behave (the live stream would make
    them rare)."""

    def __init__(self, sim_args=(), streaming=None, speed=SPEED):
        super().__init__(BIN, speed=speed, prefix="ck-follow-", run_args=("--observe",))
        self.sim = self.start_sim(SCRIPT, *sim_args)
        write_session(self.path, base_url=self.sim.base, start_ms=self.start_ms,
                      duration="1h30m", lead="15m", grace="30m", streaming=streaming,
                      questions=[{"at": "5m", "text": "How do you use online networks for CPD?"}])
        self.window = (self.start_ms - LEAD_MS // speed,
                       self.start_ms + (DURATION_MS + GRACE_MS) // speed)

    def check_exactly_once(self):
        want = expected_ids(self.sim, *self.window)
        got = [m["id"] for m in self.messages()]
        check(len(want) > 150, f"the script showed only {len(want)} statuses")
        check(len(got) == len(set(got)), "a message appears twice in messages.jsonl")
        missing = sorted(set(want) - set(got))
        check(not missing, f"{len(missing)} statuses never captured, e.g. {missing[:3]}")
        jids = [(e["object"]["id"], e["object"].get("edited_at")) for e in self.journal()]
        check(len(jids) == len(set(jids)), "the journal holds a status twice")
        return want


_scenario = scenario_of(Session)


def scenario(fn=None, **kw):
    """@scenario(**kw): the test on a Session(**kw); speed=FAST for tests that
    time nothing in wall-clock seconds. Bare @scenario (test_stream.py's form)
    takes the simulator's arguments from @with_sim."""
    if fn is None:
        return _scenario(**kw)
    return _scenario(sim_args=getattr(fn, "sim_args", ()))(fn)


def with_sim(*args):
    def deco(fn):
        fn.sim_args = args
        return fn
    return deco


def check_clean_and_archive_twice(s):
    """A clean run's capture, its threads and a stable archive. The suite runs
    it inside test_stream_capture_complete_and_fast (the same clean chat, so one
    rehearsal proves both); test_follow_clean_and_archive_twice runs it alone."""
    s.check_exactly_once()
    reqs = [r for r in s.sim.get("/sim/requests") if "/timelines/tag/" in r["path"]]
    check(reqs and reqs[0]["t"] >= s.window[0] - 50,
          "the first request went before the lead start: it must wait on its timer")
    # Replies that dropped the hashtag come from the threads fetched at the end.
    untagged = [x["id"] for x in s.sim.get("/sim/statuses")
                if not x["has_hashtag"] and x["in_reply_to_id"] and not x["posted"]
                and s.window[0] <= x["created_ms"] <= s.window[1]]
    got = {m["id"] for m in s.messages()}
    check(len(untagged) >= 5, f"the script has only {len(untagged)} untagged replies")
    missing = [i for i in untagged if i not in got]
    check(not missing, f"{len(missing)} replies without the hashtag were not fetched: "
          f"{[x for x in s.sim.get('/sim/statuses') if x['id'] in missing]}")
    first = open(os.path.join(s.out, "messages.jsonl"), "rb").read()
    for _ in range(2):
        r = subprocess.run([BIN, "archive", s.out], capture_output=True)
        check(r.returncode == 0, f"archive failed: {r.stderr.decode()}")
        again = open(os.path.join(s.out, "messages.jsonl"), "rb").read()
        check(again == first, "archive did not give the same bytes")


@scenario()
def test_follow_clean_and_archive_twice(s):
    check(s.run() == 0, "run did not exit 0")
    check_clean_and_archive_twice(s)


@scenario(speed=FAST, sim_args=("--faults", "0.25", "--seed", "7"))
def test_follow_under_faults(s):
    check(s.run() == 0, "run did not exit 0 under faults")
    s.check_exactly_once()
    faults = s.sim.get("/sim/stats")["faults"]
    check(sum(faults.values()) >= 5, f"too few faults were injected to mean anything: {faults}")


@scenario(speed=FAST)
def test_kill9_and_restart(s):
    # Anywhere from the lead into the chat's first half (1-6 s at 300x).
    s.kill9_at_random(3, 1.0 * SPEED / s.speed, 6.0 * SPEED / s.speed, at_least=2)
    check(s.run() == 0, "the restarted run did not finish")
    s.check_exactly_once()


def journaled(s):
    """Whole lines in the journal so far (one may be half written: not parsed)."""
    try:
        with open(os.path.join(s.out, "journal.jsonl"), "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


@scenario(speed=FAST)
def test_sigterm_saves_and_continues(s):
    p = s.spawn()
    # Into the chat, so there is state to save: once the chat has begun and the
    # run has journaled statuses (a condition, not a guess at how long an ASan
    # start takes on a busy machine; a signal before the handler is installed
    # would end the run as -15, not 143).
    wait_until(lambda: now_ms() > s.start_ms and journaled(s) >= 20, 30,
               "statuses journaled in the chat", proc=p, every=0.1, required=False)
    check(p.poll() is None, "the run ended before it could be stopped")
    p.send_signal(signal.SIGTERM)
    check(p.wait(15) == 143, "SIGTERM should exit 143 after saving state")
    state = s.state()
    check(state.get("phase") == "interrupted", f"state.json phase is {state.get('phase')}")
    check(s.run() == 0, "the continued run did not finish")
    s.check_exactly_once()


@scenario(sim_args=("--rate-limit", "20", "--rate-window", "4s"), streaming=False)
def test_429_waits_for_reset(s):
    """Another client of the same account burns the budget; the follower's
    next request meets a 429 and it must send nothing more until the window
    resets. The simulator's windows are 4 s of wall clock; the budget is burnt
    again in each new window until the follower has met a 429 (on a busy
    machine it may not poll inside the first window), so the test never ends
    inconclusive, and every 429 it met is checked."""
    window = 4000
    p = s.spawn()
    # The follower is polling before the budget is burnt: its first poll is in
    # the simulator's log (this run's only client until the burn).
    wait_until(lambda: any("/tag/uklibchat" in r["path"] for r in s.sim.get("/sim/requests")),
               30, "poll by the follower", proc=p)
    burn_start = now_ms()

    def ours():
        return [r for r in s.sim.get("/sim/requests")
                if "/tag/uklibchat" in r["path"] and r["t"] >= burn_start]

    hits = burn_until_429(s.sim.base + "/api/v1/timelines/tag/burn", ours, p, window)
    check(p.wait(120) == 0, "run did not exit 0")
    # "streaming": false opens no stream: this run proves it for the suite
    # (test_stream.py's test_streaming_false_never_streams alone too).
    streams = [r for r in s.sim.get("/sim/requests") if r["path"].startswith("/api/v1/streaming/")]
    check(not streams, f'"streaming": false still opened the stream {len(streams)} time(s)')
    check_quiet_until_reset(hits, ours(), window)
    s.check_exactly_once()


# ---- a hostile server (issue 10): bad bytes, bad items, huge pages, a cursor ignored ----

import http.server  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import urllib.parse  # noqa: E402

H_SPEED = 30
H_DURATION_MS, H_LEAD_MS, H_GRACE_MS = 5 * 60000, 60000, 60000
BASE_ID = 110000000000000000


def _status_bytes(sid, created_ms, content):
    """One Mastodon Status as raw bytes: content is spliced in unescaped, so a
    test can put in it any byte or escape a broken server would send."""
    head = json.dumps({"id": str(sid), "created_at": iso(created_ms), "url": f"https://h.example/@p/{sid}",
                       "uri": f"https://h.example/users/p/statuses/{sid}", "in_reply_to_id": None,
                       "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
                       "account": {"id": str(sid % 7 + 1), "acct": f"p{sid % 7}@h.example",
                                   "username": f"p{sid % 7}", "display_name": "P",
                                   "url": f"https://h.example/@p{sid % 7}"}},
                      separators=(",", ":")).encode()
    return head[:-1] + b',"content":"<p>' + content + b' #uklibchat</p>"}'


class Hostile:
    """A Mastodon hashtag timeline on 127.0.0.1 (port 0) that misbehaves.

    mode "dirty": honest paging (min_id, max_id, limit as Mastodon does), but some
      statuses carry bytes no JSON parser accepts and some items are not statuses.
    mode "ignore": every timeline request gets the same newest 40, whatever the cursor.
    mode "repeat": every timeline request gets one status forty times.
    mode "huge": like dirty, but the first response also carries 100,000 bare
      {"id": ...} items.
    mode "farreset": honest, but every response says the rate-limit window
      resets in the year 2999."""

    DEFECTS = [b"cut \xf0\x9f", b"byte \xff here", b"nul \\u0000 here", b"js cut \\ud83d",
               b"low \\udc00 alone", b"raw nul \x00 byte"]

    def __init__(self, mode, start_ms, n=72):
        self.mode, self.requests, self.lock = mode, [], threading.Lock()
        end_ms = start_ms + H_DURATION_MS // H_SPEED
        lead = start_ms - H_LEAD_MS // H_SPEED
        self.items = []  # (id, visible_ms, bytes, is_status)
        for i in range(n):
            sid = BASE_ID + (i + 1) * 1000
            created = lead + 500 + (end_ms - lead - 1500) * i // n
            if mode in ("ignore", "repeat", "farreset"):
                created = lead + 200 + i  # all there from the start
            content = b"status %d" % i
            if mode in ("dirty", "huge") and i % 6 == 3:
                content = b"status %d " % i + self.DEFECTS[(i // 6) % len(self.DEFECTS)]
            self.items.append((sid, created, _status_bytes(sid, created, content), True))
            if mode in ("dirty", "huge") and i % 12 == 8:  # items that are not statuses
                bad = [b'{"content":"no id"}', b'{"id":%d}' % (sid + 1),
                       b'{"id":"%d"}' % (sid + 2), b'{"id":"%d","content":tru}' % (sid + 3),
                       b'null', b'{"id":"%d","created_at":"yesterday"}' % (sid + 4)]
                self.items.append((sid + 5, created, bad[(i // 12) % len(bad)], False))
        self.good = [str(x[0]) for x in self.items if x[3]]
        self.huge_sent = False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.handle(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def page(self, q):
        now = now_ms()
        vis = sorted((x for x in self.items if x[1] <= now), key=lambda x: -x[0])
        limit = max(1, min(40, int(q.get("limit", ["20"])[0])))
        if self.mode == "ignore":
            return [x[2] for x in vis[:40]]
        if self.mode == "repeat":
            return [vis[0][2]] * 40 if vis else []
        if "max_id" in q:
            vis = [x for x in vis if x[0] < int(q["max_id"][0])]
        if "since_id" in q:
            vis = [x for x in vis if x[0] > int(q["since_id"][0])]
        if "min_id" in q:  # the oldest `limit` above min_id, newest first
            vis = [x for x in vis if x[0] > int(q["min_id"][0])][-limit:]
        out = [x[2] for x in vis[:limit]]
        if self.mode == "huge" and not self.huge_sent:
            self.huge_sent = True
            out += [b'{"id":"%d"}' % (10 ** 17 + k) for k in range(100000, 0, -1)]
        return out

    def handle(self, h):
        u = urllib.parse.urlsplit(h.path)
        q = urllib.parse.parse_qs(u.query)
        with self.lock:
            self.requests.append((now_ms(), u.path, u.query))
            if u.path.startswith("/api/v1/timelines/tag/"):
                body = b"[" + b",".join(self.page(q)) + b"]"
            elif u.path.endswith("/context"):
                body = b'{"ancestors":[],"descendants":[]}'
            else:
                h.send_response(404)
                h.end_headers()
                return
        h.send_response(200)
        if self.mode == "farreset":
            h.send_header("X-RateLimit-Limit", "300")
            h.send_header("X-RateLimit-Remaining", "299")
            h.send_header("X-RateLimit-Reset", "2999-01-01T00:00:00.000Z")
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def timeline_requests(self):
        with self.lock:
            return [r for r in self.requests if r[1].startswith("/api/v1/timelines/tag/")]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def hostile(mode):
    """@hostile(mode): the test gets a session whose `chatkeeper run --observe`
    has run (at most 90 s) against a Hostile server in mode: s.srv, its exit
    status s.rc (None if it was killed), the seconds it took s.took, its log s.text."""
    def deco(fn):
        def wrapper():
            with SimSession(BIN, speed=H_SPEED, prefix="ck-hostile-", run_args=("--observe",)) as s:
                s.srv = s.serve(Hostile(mode, s.start_ms))
                write_session(s.path, base_url=s.srv.base, start_ms=s.start_ms, duration="5m",
                              lead="1m", grace="1m")
                t0 = time.time()
                try:
                    s.rc = s.run(timeout=90)
                except subprocess.TimeoutExpired:
                    s.rc = None
                s.took = time.time() - t0
                s.text = s.log_text()
                fn(s)
        wrapper.__name__ = fn.__name__
        return wrapper
    return deco


def strict_journal(out):
    """Every journal line as strict JSON: valid UTF-8, no NUL, no lone surrogate."""
    lines = []
    with open(os.path.join(out, "journal.jsonl"), "rb") as f:
        for n, raw in enumerate(f, 1):
            text = raw.decode("utf-8")  # raises on invalid UTF-8
            e = json.loads(text)
            dumped = json.dumps(e, ensure_ascii=False)
            check("\x00" not in dumped, f"journal line {n} holds a NUL")
            dumped.encode("utf-8")  # raises on a lone surrogate
            lines.append(e)
    return lines


@hostile("dirty")
def test_follow_past_bad_statuses(s):
    check(s.rc == 0, f"run exited {s.rc}")
    journal = strict_journal(s.out)
    by_id = {}
    for e in journal:
        by_id.setdefault(e["object"]["id"], []).append(e["source"])
    missing = [i for i in s.srv.good if i not in by_id]
    check(not missing, f"{len(missing)} of {len(s.srv.good)} statuses never journaled, "
          f"e.g. {missing[:3]}")
    # Live following went on past every bad status: each was caught while
    # following, not only by the sweep at the end.
    late = [i for i in s.srv.good if not any(x.startswith("timeline") for x in by_id[i])]
    check(not late, f"{len(late)} statuses only reached by the sweep, e.g. {late[:3]}")
    repaired = {i for i, srcs in by_id.items() if any(x.endswith("+repaired") for x in srcs)}
    dirty = {str(BASE_ID + (i + 1) * 1000) for i in range(72) if i % 6 == 3}
    check(repaired == dirty, f"repaired {sorted(repaired)} but the dirty ones are {sorted(dirty)}")
    strays = set(by_id) - set(s.srv.good)
    check(not strays, f"items that are not statuses were journaled: {sorted(strays)}")
    got = [m["id"] for m in s.messages()]
    check(sorted(got) == sorted(s.srv.good), "messages.jsonl does not hold every status once")
    check("replaced by U+FFFD" in s.text and "skipped" in s.text, "the repairs were not logged")


@hostile("huge")
def test_huge_page_is_cut_and_checked(s):
    check(s.srv.huge_sent, "the huge page was never asked for (test inconclusive)")
    check(s.rc == 0, f"run exited {s.rc} after {s.took:.0f} s")
    ids = {e["object"]["id"] for e in strict_journal(s.out)}
    check(ids == set(s.srv.good), f"the journal holds {len(ids)} ids for {len(s.srv.good)} "
          "statuses: bare items were journaled or statuses lost")
    check("kept 200" in s.text, "the oversized page was not reported")


@hostile("farreset")
def test_far_future_reset_does_not_park(s):
    # Uncapped, pacing spread 269 requests over 973 years: one request, then
    # nothing until the sweep's deadline ten minutes after the chat.
    check(s.rc == 0, f"run exited {s.rc} after {s.took:.0f} s")
    check(s.took < 60, f"the run took {s.took:.0f} s")
    ids = {e["object"]["id"] for e in strict_journal(s.out)}
    check(ids == set(s.srv.good), f"{len(set(s.srv.good) - ids)} statuses never journaled")
    check("2999-01-01" in s.text and "at most" in s.text, "the capped wait was not reported")
    check("holds the next request back" in s.text, "pacing held requests back in silence")


def check_no_storm(s, mode):
    check(s.rc == 0, f"run exited {s.rc} after {s.took:.0f} s")
    reqs = s.srv.timeline_requests()
    # Polls are 1 s apart: two requests a poll cycle at most, and a few for
    # the catch-up and the sweep; the old follower sent 20 a second.
    bound = 2 * int(s.took) + 10
    check(len(reqs) <= bound, f"{len(reqs)} timeline requests in {s.took:.0f} s (bound {bound})")
    print(f"     {mode}: {len(reqs)} timeline requests in {s.took:.0f} s")
    ids = [e["object"]["id"] for e in strict_journal(s.out)]
    check(len(ids) == len(set(ids)), "the journal holds a status twice")
    want = s.srv.good[-40:] if mode == "ignore" else s.srv.good[-1:]
    check(set(want) <= set(ids), "statuses the server did show were not journaled")
    warned = [line for line in s.text.splitlines() if "warn" in line
              and ("the server ignored" in line or "the server repeated" in line)]
    check(1 <= len(warned) <= 3, f"{len(warned)} warnings about the cursor (want one per kind)")


@hostile("ignore")
def test_cursor_ignored_no_storm(s):
    check_no_storm(s, "ignore")


@hostile("repeat")
def test_one_status_repeated_no_storm(s):
    check_no_storm(s, "repeat")


if __name__ == "__main__":
    tests = [test_follow_clean_and_archive_twice, test_follow_under_faults, test_kill9_and_restart,
             test_sigterm_saves_and_continues, test_429_waits_for_reset,
             test_follow_past_bad_statuses, test_huge_page_is_cut_and_checked,
             test_cursor_ignored_no_storm, test_one_status_repeated_no_storm,
             test_far_future_reset_does_not_park]
    sys.exit(run_tests(tests, sys.argv[3:]))
