"""End to end: the real `chatkeeper run` follows the real simulator.

Each test plays the shipped 90-minute #uklibchat script at 300x (about 25 s)
and checks that every tagged status the simulator showed in the session window
is in messages.jsonl exactly once, through faults, kill -9, SIGTERM and 429s.
usage: test_follow.py CHATKEEPER SCRIPT [test names]"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from ckit import Sim, check, expected_ids, now_ms, read_jsonl, run_tests, write_session, iso  # noqa

BIN, SCRIPT = sys.argv[1], sys.argv[2]
SPEED = 300
LEAD_MS, DURATION_MS, GRACE_MS = 15 * 60000, 90 * 60000, 30 * 60000


class Session:
    """A session file in script time; `run --speed` compresses it like the simulator."""

    def __init__(self, sim_args=(), start_in_ms=2000):
        self.tmp = tempfile.mkdtemp(prefix="ck-follow-")
        self.start_ms = (now_ms() + start_in_ms) // 1000 * 1000
        self.sim = Sim(BIN, SCRIPT, SPEED, self.start_ms, *sim_args)
        self.path = os.path.join(self.tmp, "session.json")
        write_session(self.path, base_url=self.sim.base, start_ms=self.start_ms,
                      duration="1h30m", lead="15m", grace="30m",
                      questions=[{"at": "5m", "text": "How do you use online networks for CPD?"}])
        self.out = os.path.join(self.tmp, "out")
        self.window = (self.start_ms - LEAD_MS // SPEED,
                       self.start_ms + (DURATION_MS + GRACE_MS) // SPEED)
        self.log = open(os.path.join(self.tmp, "run.log"), "a")

    def cmd(self):
        return [BIN, "run", self.path, "--observe", "--no-status", "--out", self.out,
                "--speed", str(SPEED), "--start", iso(self.start_ms)]

    def spawn(self):
        return subprocess.Popen(self.cmd(), stdout=self.log, stderr=subprocess.STDOUT)

    def run(self, timeout=120):
        p = self.spawn()
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise

    def messages(self):
        return read_jsonl(os.path.join(self.out, "messages.jsonl"))

    def journal(self):
        return read_jsonl(os.path.join(self.out, "journal.jsonl"))

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

    def close(self):
        self.sim.stop()
        self.log.close()
        if os.environ.get("CK_KEEP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def dump_log(self):
        self.log.flush()
        with open(self.log.name) as f:
            sys.stdout.write(f.read()[-3000:])


def with_sim(*args):
    def deco(fn):
        fn.sim_args = args
        return fn
    return deco


def scenario(fn):
    def wrapper():
        s = Session(getattr(fn, "sim_args", ()))
        try:
            fn(s)
        except Exception:
            s.dump_log()
            raise
        finally:
            s.close()
    wrapper.__name__ = fn.__name__
    return wrapper


@scenario
def test_follow_clean_and_archive_twice(s):
    check(s.run() == 0, "run did not exit 0")
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


@scenario
@with_sim("--faults", "0.25", "--seed", "7")
def test_follow_under_faults(s):
    check(s.run() == 0, "run did not exit 0 under faults")
    s.check_exactly_once()
    faults = s.sim.get("/sim/stats")["faults"]
    check(sum(faults.values()) >= 5, f"too few faults were injected to mean anything: {faults}")


@scenario
def test_kill9_and_restart(s):
    rng = random.Random(int(os.environ.get("CK_SEED", "0")) or None)
    kills = 0
    for _ in range(3):
        p = s.spawn()
        time.sleep(rng.uniform(1.0, 6.0))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
    check(kills >= 2, "the run ended before it could be killed")
    check(s.run() == 0, "the restarted run did not finish")
    s.check_exactly_once()


@scenario
def test_sigterm_saves_and_continues(s):
    p = s.spawn()
    time.sleep(4)
    p.send_signal(signal.SIGTERM)
    check(p.wait(15) == 143, "SIGTERM should exit 143 after saving state")
    import json
    state = json.load(open(os.path.join(s.out, "state.json")))
    check(state.get("phase") == "interrupted", f"state.json phase is {state.get('phase')}")
    check(s.run() == 0, "the continued run did not finish")
    s.check_exactly_once()


@scenario
@with_sim("--rate-limit", "20", "--rate-window", "4s")
def test_429_waits_for_reset(s):
    p = s.spawn()
    time.sleep(3)
    # Burn the whole budget from outside, as another client of the same account would.
    reset_ms = None
    burn_start = now_ms()
    for _ in range(100):
        try:
            urllib.request.urlopen(s.sim.base + "/api/v1/timelines/tag/burn", timeout=5).read()
        except urllib.error.HTTPError as e:
            if e.code == 429:
                from ckit import iso as _iso  # noqa: F401
                import datetime
                reset = e.headers["X-RateLimit-Reset"]
                reset_ms = int(datetime.datetime.fromisoformat(reset.replace("Z", "+00:00"))
                               .timestamp() * 1000)
                break
    check(reset_ms is not None, "the simulator never answered 429")
    check(p.wait(120) == 0, "run did not exit 0")
    ours = [r for r in s.sim.get("/sim/requests")
            if "/tag/uklibchat" in r["path"] and r["t"] >= burn_start]
    hit = [r for r in ours if r["status"] == 429 and r["t"] < reset_ms]
    check(hit, "the follower never met the 429 (test inconclusive)")
    early = [r for r in ours if hit[0]["t"] < r["t"] < reset_ms]
    check(not early, f"{len(early)} requests went after the 429 but before the reset")
    s.check_exactly_once()


if __name__ == "__main__":
    tests = [test_follow_clean_and_archive_twice, test_follow_under_faults, test_kill9_and_restart,
             test_sigterm_saves_and_continues, test_429_waits_for_reset]
    names = sys.argv[3:]
    if names:
        tests = [t for t in tests if t.__name__ in names]
    sys.exit(run_tests(tests))
