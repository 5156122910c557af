"""End to end: `chatkeeper run` follows the simulator's live stream
(GET /api/v1/streaming/hashtag, server-sent events) with the timeline as the
check. The shipped #uklibchat script at 300x, as test_follow.py plays it.
usage: test_stream.py CHATKEEPER SCRIPT [test names]"""
import os
import sys
from datetime import datetime

sys.path.insert(0, os.path.dirname(__file__))
from ckit import check, run_tests  # noqa: E402
from test_follow import (FAST, Session, check_clean_and_archive_twice, scenario,  # noqa: E402
                         with_sim)

# The simulator's request budget (300) per 10 s of wall clock, not per 5 min:
# at 300x the chat is 27 s long, so a 5-minute window held the sweep and the
# threads at the end to one request a second or so (0-25 s of each test, by
# where in the wall clock's window the test fell), which none of these tests
# is about. The follower still reads and obeys the budget's headers; pacing
# under a real window is test_follow.py's and test_capture.py's business.
BUDGET = ("--rate-window", "10s")


def fast(fn):
    """@scenario at FAST (600x), for a test that times nothing in wall-clock
    seconds; its simulator's arguments from @with_sim."""
    def wrapper():
        s = Session(getattr(fn, "sim_args", ()), speed=FAST)
        try:
            fn(s)
        except Exception:
            s.dump_log()
            raise
        finally:
            s.close()
    wrapper.__name__ = fn.__name__
    return wrapper


def ms(ts):
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def stream_requests(s):
    return [r for r in s.sim.get("/sim/requests") if r["path"].startswith("/api/v1/streaming/")]


def run_log(s):
    s.log.flush()
    with open(s.log.name) as f:
        return f.read()


def capture_delays(s):
    """fetched_at - visible_at (ms) of each tagged status's first journal line,
    for statuses that became visible while the session followed (replies
    without the tag come from the threads at the end, by design)."""
    vis = {x["id"]: x["visible_ms"] for x in s.sim.get("/sim/statuses") if x["has_hashtag"]}
    first = {}
    for e in s.journal():
        first.setdefault(e["object"]["id"], e)
    return sorted(ms(e["fetched_at"]) - vis[i] for i, e in first.items()
                  if i in vis and s.window[0] + 2000 <= vis[i] <= s.window[1] - 2000
                  and e["source"] != "sweep")


def pct(xs, p):
    return xs[min(len(xs) - 1, int(len(xs) * p))]


@scenario
@with_sim(*BUDGET)
def test_stream_capture_complete_and_fast(s):
    check(s.run() == 0, "run did not exit 0")
    # The default session follows the stream: the clean chat of test_follow.py
    # is this one, so its checks run here rather than in a rehearsal of its own.
    check_clean_and_archive_twice(s)
    sources = [e["source"] for e in s.journal()]
    n_stream = sources.count("stream")
    check(n_stream > 100, f"only {n_stream} statuses came from the stream: {set(sources)}")
    d = capture_delays(s)
    check(len(d) > 100, f"only {len(d)} statuses to time")
    p50, p95 = pct(d, 0.5), pct(d, 0.95)
    print(f"capture delay over {len(d)} statuses: p50 {p50} ms, p95 {p95} ms")
    check(p95 < 1000, f"capture delay p95 {p95} ms (p50 {p50} ms): the stream must be under 1 s")
    check(len(stream_requests(s)) == 1, f"the stream was opened {len(stream_requests(s))} times")
    polls = [r for r in s.sim.get("/sim/requests") if "/timelines/tag/" in r["path"]]
    # Polling every 1 s for ~27 s would be dozens; the stream polls every 12 s as a check.
    check(len(polls) < 25, f"{len(polls)} timeline requests while the stream was up")
    log = run_log(s)
    check("following the live stream" in log, "the log does not say it follows the stream")


@scenario
@with_sim("--stream-drop", "3s", *BUDGET)
def test_stream_dropped_falls_back_nothing_lost(s):
    check(s.run() == 0, "run did not exit 0")
    s.check_exactly_once()
    opened = stream_requests(s)
    check(len(opened) >= 3, f"the stream was reopened only {len(opened)} times")
    log = run_log(s)
    warned = [l for l in log.splitlines() if "live stream ended" in l and "WARN" in l.upper()]
    check(len(warned) == 1, f"the fallback was said {len(warned)} times as a warning, not once")
    check("the live stream is back" in log, "the log does not say the stream came back")
    sources = {e["source"] for e in s.journal()}
    check("stream" in sources and "timeline" in sources,
          f"expected statuses from both the stream and the timeline check: {sources}")


@scenario
@with_sim("--stream-skip", "0.2", "--seed", "3", *BUDGET)
def test_stream_lossy_checked_by_timeline(s):
    # The stream leaves out a fifth of the statuses while it stays up; the
    # timeline check (every 12 s here, about 90 statuses apart at 300x, far
    # more than the 20 of the overlap) reads back to where it last ended.
    check(s.run() == 0, "run did not exit 0")
    s.check_exactly_once()
    check(len(stream_requests(s)) == 1, "the stream did not stay up")
    first = {}
    for e in s.journal():
        first.setdefault(e["object"]["id"], e["source"])
    vis = {x["id"]: x["visible_ms"] for x in s.sim.get("/sim/statuses") if x["has_hashtag"]}
    by_source = {}
    for i, src in first.items():
        if i in vis:
            by_source[src] = by_source.get(src, 0) + 1
    print(f"first seen by: {by_source}")
    check(by_source.get("timeline", 0) >= 20, f"the check found too little: {by_source}")
    # Only what became visible after the last check (12 s before the end of
    # following) may be left to the sweep.
    late = [i for i, src in first.items() if i in vis and src == "sweep"
            and vis[i] < s.window[1] - 13000]
    check(not late, f"{len(late)} statuses were left to the sweep: the checks missed them")


@fast
@with_sim("--no-streaming", *BUDGET)
def test_stream_404_falls_back_once(s):
    check(s.run() == 0, "run did not exit 0")
    s.check_exactly_once()
    log = run_log(s)
    refused = [l for l in log.splitlines() if "refused the live stream" in l]
    check(len(refused) == 1, f"the refusal was logged {len(refused)} times: {refused}")
    check("HTTP 404" in refused[0], f"the refusal does not say why: {refused[0]}")
    tries = stream_requests(s)
    # Backoff from 5 s over ~15 s of following (600x): a handful, not one a
    # poll (polls are 1 s apart: a retry each would be 14 or more).
    check(1 <= len(tries) <= 6, f"{len(tries)} stream attempts")
    check(all(r["status"] == 404 for r in tries), "the simulator did not refuse every stream")


@fast
@with_sim("--streaming-host", "localhost", *BUDGET)
def test_stream_url_from_the_instance(s):
    # The instance names ws://localhost:PORT as its streaming API and serves
    # streams only for that host (its REST host 127.0.0.1 answers 404), as
    # big instances run a streaming host of their own.
    check(s.run() == 0, "run did not exit 0")
    s.check_exactly_once()
    asked = [r for r in s.sim.get("/sim/requests") if r["path"] == "/api/v2/instance"]
    check(len(asked) == 1, f"the instance was asked {len(asked)} times where its stream is")
    opened = stream_requests(s)
    check(len(opened) == 1 and opened[0]["status"] == 200,
          f"the stream was not opened at the named host: {[r['status'] for r in opened]}")
    n_stream = [e["source"] for e in s.journal()].count("stream")
    check(n_stream > 100, f"only {n_stream} statuses came from the stream")
    log = run_log(s)
    check(f"serves its live stream at http://localhost:{s.sim.port}" in log,
          "the log does not say where the stream is served")
    check("refused the live stream" not in log, "the stream was refused")


def test_streaming_false_never_streams():
    s = Session((), streaming=False)
    try:
        check(s.run() == 0, "run did not exit 0")
        s.check_exactly_once()
        check(not stream_requests(s), "\"streaming\": false still opened the stream")
    except Exception:
        s.dump_log()
        raise
    finally:
        s.close()


if __name__ == "__main__":
    tests = [test_stream_capture_complete_and_fast, test_stream_dropped_falls_back_nothing_lost,
             test_stream_lossy_checked_by_timeline,
             test_stream_404_falls_back_once, test_streaming_false_never_streams,
             test_stream_url_from_the_instance]
    names = sys.argv[3:]
    if names:
        tests = [t for t in tests if t.__name__ in names]
    sys.exit(run_tests(tests))
