"""End to end: `chatkeeper run` posts the run sheet on the simulator, on time and
exactly once, under POST faults and across kill -9 at random moments.
usage: test_post.py CHATKEEPER SCRIPT [test names]"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from ckit import Sim, check, iso, now_ms, run_tests  # noqa: E402

BIN, SCRIPT = sys.argv[1], sys.argv[2]
SPEED = 30
STEPS = ["welcome", "Q1", "Q2", "Q3", "Q4", "Q5", "closing"]


class PostSession:
    def __init__(self, sim_args=(), thread=False, publish=None):
        self.tmp = tempfile.mkdtemp(prefix="ck-post-")
        self.start_ms = (now_ms() + 2000) // 1000 * 1000
        self.sim = Sim(BIN, SCRIPT, SPEED, self.start_ms, *sim_args)
        self.path = os.path.join(self.tmp, "session.json")
        doc = {
            "title": "Posting test", "hashtag": "uklibchat", "timezone": "Europe/London",
            "start": iso(self.start_ms), "duration": "8m", "lead": "30s", "grace": "1m",
            "platform": {"type": "mastodon", "base_url": self.sim.base,
                         "token_env": "CK_TEST_TOKEN"},
            "facilitators": ["@uklibchat@127.0.0.1"], "post": True, "thread": thread,
            "poll": {"chat": "1s", "quiet": "1s"},
            "welcome": {"at": "0m", "text": "Welcome to the test chat"},
            "questions": [{"at": f"{i}m", "text": f"Question number {i}?"} for i in range(1, 6)],
            "closing": {"at": "7m", "text": "Thanks all"},
        }
        if publish is not None:
            doc["publish"] = publish
        json.dump(doc, open(self.path, "w"))
        self.out = os.path.join(self.tmp, "out")
        self.log = open(os.path.join(self.tmp, "run.log"), "a")
        self.env = dict(os.environ, CK_TEST_TOKEN="test-token", CK_TEST_MP_TOKEN="mp-secret-token")

    def spawn(self):
        return subprocess.Popen(
            [BIN, "run", self.path, "--no-status", "--out", self.out, "--speed", str(SPEED),
             "--start", iso(self.start_ms)], stdout=self.log, stderr=subprocess.STDOUT,
            env=self.env)

    def state(self):
        return json.load(open(os.path.join(self.out, "state.json")))

    def posted(self):
        return [s for s in self.sim.get("/sim/statuses") if s["posted"]]

    def check_each_step_once(self):
        posted = self.posted()
        texts = [p.get("text") or p.get("content") or "" for p in posted]
        stats = self.sim.get("/sim/stats")
        check(stats["posts_created"] == len(STEPS),
              f"{stats['posts_created']} posts created for {len(STEPS)} steps")
        steps = self.state().get("steps", {})
        ids = set()
        for k in STEPS:
            st = steps.get(k, {})
            check(st.get("status") == "posted", f"step {k}: {st}")
            ids.add(st.get("id"))
        check(len(ids) == len(STEPS), "two steps recorded the same post")
        check(ids == {p["id"] for p in posted}, "state.json and the server disagree on the posts")
        return steps, texts

    def close(self):
        self.sim.stop()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def dump_log(self):
        self.log.flush()
        sys.stdout.write(open(self.log.name).read()[-3000:])


def scenario(*sim_args, thread=False):
    def deco(fn):
        def wrapper():
            s = PostSession(sim_args, thread=thread)
            try:
                fn(s)
            except Exception:
                s.dump_log()
                raise
            finally:
                s.close()
        wrapper.__name__ = fn.__name__
        return wrapper
    return deco


@scenario(thread=True)
def test_posts_on_time_in_a_thread(s):
    check(s.spawn().wait(120) == 0, "run did not exit 0")
    steps, _ = s.check_each_step_once()
    delays = [steps[k]["delay_ms"] for k in STEPS]
    check(max(delays) < 1000, f"a step went out more than 1 s late: {delays}")
    from ckit import read_jsonl
    captured = {m["id"] for m in read_jsonl(os.path.join(s.out, "messages.jsonl"))}
    check({steps[k]["id"] for k in STEPS} <= captured, "our own posts are missing from the archive")
    by_id = {p["id"]: p for p in s.posted()}
    for prev, cur in zip(STEPS, STEPS[1:]):
        check(by_id[steps[cur]["id"]]["in_reply_to_id"] == steps[prev]["id"],
              f"{cur} does not reply to {prev}")


@scenario("--faults", "0.35", "--seed", "11")
def test_posts_exactly_once_under_faults(s):
    check(s.spawn().wait(180) == 0, "run did not exit 0 under faults")
    s.check_each_step_once()
    faults = s.sim.get("/sim/stats")["faults"]
    check(sum(faults.values()) > 3, f"too few faults to mean anything: {faults}")


@scenario()
def test_posts_exactly_once_across_kill9(s):
    rng = random.Random(int(os.environ.get("CK_SEED", "0")) or None)
    kills = 0
    for _ in range(5):
        p = s.spawn()
        time.sleep(rng.uniform(0.3, 4.0))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
    check(kills >= 3, "the run ended before it could be killed")
    check(s.spawn().wait(120) == 0, "the restarted run did not finish")
    s.check_each_step_once()


def test_run_publishes_at_the_end():
    """A session with a publish section publishes its write-up when run ends."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "publish"))
    from pubkit import Micropub
    mp = Micropub()
    s = PostSession(publish={"micropub": {"endpoint": mp.endpoint,
                                          "token_env": "CK_TEST_MP_TOKEN"}})
    try:
        check(s.spawn().wait(120) == 0, "run did not exit 0")
        check(not mp.problems, f"the Micropub endpoint saw bad requests: {mp.problems}")
        check(len(mp.posts) == 1, f"{len(mp.posts)} posts published, want 1")
        html = mp.requests[-1]["json"]["properties"]["content"][0]["html"]
        check("Question number 3?" in html, "the write-up lacks the questions")
        st = s.state()
        check(st.get("phase") == "done", f"phase {st.get('phase')}")
        check(st["published"]["micropub"]["url"].startswith(mp.endpoint.rsplit("/", 1)[0]),
              f"published url not recorded: {st.get('published')}")
        for f in ("writeup.md", "writeup.html", "transcript.html", "summary.json"):
            check(os.path.exists(os.path.join(s.out, f)), f"{f} missing")
    except Exception:
        s.dump_log()
        raise
    finally:
        s.close()
        mp.stop()


if __name__ == "__main__":
    tests = [test_posts_on_time_in_a_thread, test_posts_exactly_once_under_faults,
             test_posts_exactly_once_across_kill9, test_run_publishes_at_the_end]
    names = sys.argv[3:]
    if names:
        tests = [t for t in tests if t.__name__ in names]
    sys.exit(run_tests(tests))
