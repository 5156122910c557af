"""serve keeps every session's steps on time while another session's archive
is built: the build runs beside the loop (a child process), not on it.
Session A's chat is over with a large journal (its capture done, its archive
not built), so serve builds it at once; session B, live on a simulator,
posts its welcome a few seconds later, while A's build is held (SIGSTOP).
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


def build_child(serve_pid, session):
    """The pids of serve's children building session (`chatkeeper archive DIR`)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        name = os.path.basename(session.rstrip("/")).encode()
        if ppid == serve_pid and b"archive" in argv and any(a.endswith(name) for a in argv):
            found.append(int(pid))
    return found


def posted_at(session, label):
    if session is None:
        return None
    try:
        state = json.load(open(os.path.join(session, "state.json")))
    except (OSError, ValueError):
        return None
    return state.get("steps", {}).get(label, {}).get("posted_at")


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
        # Hold A's build where it is (SIGSTOP to the build's process), so B's
        # steps fall due while it runs however fast this machine builds: a
        # build on serve's own loop has no process of its own to find, and a
        # loop it blocked would post nothing until it ended.
        builder = []
        s.wait_for("A's build process", lambda: builder.extend(build_child(s.proc.pid, da))
                   or builder, 60)
        os.kill(builder[0], signal.SIGSTOP)
        try:
            # Now B's chat starts in 4 s (an edit and SIGHUP, as a facilitator
            # would): its welcome falls due while A's build is held.
            b_start = (now_ms() + 4000) // 1000 * 1000
            sim.stop()
            s.sims.remove(sim)
            sim = s.sim(b_start)
            json.dump(session_doc("Beta chat", sim.base, b_start, s.archive), open(b_path, "w"))
            s.proc.send_signal(signal.SIGHUP)
            s.wait_for("B's welcome, with A's build held",
                       lambda: posted_at(session_dir(s.archive, "Beta chat"), "welcome"), 120)
            check(phase(da) == "archiving", f"A's build ended while held ({phase(da)})")
        finally:
            os.kill(builder[0], signal.SIGCONT)
        db = session_dir(s.archive, "Beta chat")
        s.wait_for("both done", lambda: phase(da) == "done" and phase(db) == "done", 240)
        steps = json.load(open(os.path.join(db, "state.json"))).get("steps", {})
        for k in STEPS:
            check(steps.get(k, {}).get("posted_at") is not None, f"B's {k} was not posted")
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
