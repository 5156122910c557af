"""serve keeps every session's steps on time while another session's archive
is built: the build runs beside the loop (a child process), not on it.
Session A's chat is over with a large journal (its capture done, its archive
not built), so serve builds it at once; session B, live on a simulator,
posts its welcome a few seconds later, while A's build is still running.
usage: test_serve_build.py CHATKEEPER SCRIPT [test names]"""
import datetime
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from ckit import check, iso, now_ms, run_tests  # noqa: E402
from test_serve import STEPS, Serve, phase, session_dir, session_doc  # noqa: E402

STATUSES = 60000  # an archive that takes the loop seconds to build, even in a release build


def big_session(s, start_ms):
    """A's file and its directory as a run that captured the whole chat leaves
    it: the journal, state.json saying the sweep and threads are done."""
    doc = {"title": "Big archive", "hashtag": "uklibchat", "timezone": "UTC",
           "start": iso(start_ms), "duration": "20m", "lead": "1m", "grace": "2m",
           "platform": {"type": "mastodon", "base_url": "http://127.0.0.1:9",
                        "token_env": "CK_TEST_TOKEN"},
           "post": False, "archive_dir": s.archive,
           "questions": [{"at": "5m", "text": "What brought you here?"}]}
    path = os.path.join(s.tmp, "big.json")
    json.dump(doc, open(path, "w"))
    day = datetime.datetime.fromtimestamp(start_ms / 1000, datetime.timezone.utc).date()
    d = os.path.join(s.archive, f"{day.isoformat()}-big-archive")
    os.makedirs(d)
    with open(os.path.join(d, "journal.jsonl"), "w") as f:
        for i in range(STATUSES):
            created = iso(start_ms + 1000 + (i * 1000) % (15 * 60000))
            who = f"user{i % 500}"
            obj = {"id": str(10**17 + i), "created_at": created, "url": f"https://ex.social/@{who}/{i}",
                   "uri": f"https://ex.social/s/{i}", "in_reply_to_id": None, "reblog": None,
                   "content": f"<p>A1 message {i} from {who} #uklibchat</p>", "edited_at": None,
                   "media_attachments": [], "replies_count": 0, "reblogs_count": 0,
                   "favourites_count": 0,
                   "account": {"id": f"acc-{who}", "acct": f"{who}@ex.social", "username": who,
                               "display_name": who, "url": f"https://ex.social/@{who}"}}
            f.write(json.dumps({"fetched_at": created, "platform": "mastodon",
                                "source": "timeline", "object": obj}) + "\n")
    json.dump({"phase": "following", "version": 1,
               "follower": {"sweep_done": True, "threads_done": True}},
              open(os.path.join(d, "state.json"), "w"))
    return path, d


def log_ms(line):
    return int(datetime.datetime.fromisoformat(line.split()[0].replace("Z", "+00:00"))
               .timestamp() * 1000)


def test_steps_on_time_while_an_archive_builds():
    s = Serve()
    try:
        a_path, da = big_session(s, now_ms() - 3 * 3600 * 1000)
        # B far off at first: A's start reads its whole journal on the loop
        # (the follower's count), which is not what this test measures.
        b_path = os.path.join(s.tmp, "beta.json")
        sim = s.sim(now_ms() + 600000)
        json.dump(session_doc("Beta chat", sim.base, now_ms() + 600000, s.archive),
                  open(b_path, "w"))
        s.spawn([a_path, b_path])
        s.wait_for("A's archive build", lambda: phase(da) == "archiving", 120)
        # Now B's chat starts in 4 s (an edit and SIGHUP, as a facilitator would):
        # its steps fall due while A's archive is being built.
        b_start = (now_ms() + 4000) // 1000 * 1000
        sim.stop()
        s.sims.remove(sim)
        sim = s.sim(b_start)
        json.dump(session_doc("Beta chat", sim.base, b_start, s.archive), open(b_path, "w"))
        s.proc.send_signal(signal.SIGHUP)
        s.wait_for("both done", lambda: phase(da) == "done" and
                   phase(session_dir(s.archive, "Beta chat")) == "done", 240)
        db = session_dir(s.archive, "Beta chat")
        steps = json.load(open(os.path.join(db, "state.json"))).get("steps", {})
        for k in STEPS:
            late = steps.get(k, {}).get("delay_ms")
            check(late is not None and late < 1000,
                  f"B's {k} was {late} ms late (A's archive was being built)")
        # The test proves something only if A's build overlapped B's steps.
        lines = s.text().splitlines()
        began = [log_ms(x) for x in lines if "[" + os.path.basename(da) + "]" in x and
                 "following done" in x]
        ended = [log_ms(x) for x in lines if "[" + os.path.basename(da) + "]" in x and
                 "runner: done" in x]
        posted = [log_ms(x) for x in lines if "poster: posted" in x]
        check(began and ended and any(began[0] < t < ended[0] for t in posted),
              f"A's build ({began}..{ended}) overlapped none of B's posts {posted}")
        check(os.path.exists(os.path.join(da, "messages.jsonl")), "A's archive was not built")
        t0 = time.time()
        s.stop()
        check(time.time() - t0 < 10, "serve was slow to stop")
    except Exception:
        sys.stdout.write(s.text()[-3000:])
        raise
    finally:
        s.close()


if __name__ == "__main__":
    tests = [test_steps_on_time_while_an_archive_builds]
    names = sys.argv[3:]
    if names:
        tests = [t for t in tests if t.__name__ in names]
    sys.exit(run_tests(tests))
