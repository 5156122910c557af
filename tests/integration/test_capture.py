"""End to end: `chatkeeper run` of a chat that is over, and the outputs a live
run keeps fresh for latecomers.

 - A session whose window lies in the past (two days ago) is captured
   afterwards: the sweep reads the tag timeline back through the window and the
   threads, and the archive holds every message (issue 10, item 2).
 - A plain `run` of it posts nothing and says the chat is over.
 - When nothing answers, it does not end "done: 0 messages", exit 0: it gives
   up after about a minute, says what failed and that the same command
   continues; the same command then captures everything exactly once.
 - During a run, messages.jsonl and transcript.html exist and `catchup` reads
   them before the run ends (item 12).
 - Those refreshes are built by a child process (`chatkeeper archive DIR`), so
   the build's heap stays out of the follower's RSS (issue 11), and a kill -9
   of the run takes the build in flight with it, as it did in-process.
usage: test_capture.py CHATKEEPER SCRIPT [test names]"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from ckit import Sim, check, iso, now_ms, read_jsonl, run_tests, write_session  # noqa

BIN, SCRIPT = sys.argv[1], sys.argv[2]
SPEED = 300
# The script's 90-minute chat, played at 300x two days ago. The statuses carry
# the chat's own clock (created_at = start + their time in the script), as the
# real chat's would, so the session file says what the real one said: 15 min
# lead, 90 min, 30 min grace.
LEAD_MS, DURATION_MS, GRACE_MS = 15 * 60000, 90 * 60000, 30 * 60000
TWO_DAYS_MS = 2 * 86400 * 1000
# The simulator's budget (300 requests) per 10 s of wall clock rather than per
# 5 min, for the scenarios that are not about pacing: a 5-minute window holds
# a past chat's sweep and threads to about a request a second (0-25 s a run,
# by where the run falls in the wall clock's window).
# test_past_session_observe_builds_the_archive keeps the 5-minute window: the
# sweep of a past chat under a real budget must not run out of time.
BUDGET = ("--rate-window", "10s")
# test_outputs_refreshed_during_the_chat times nothing in wall-clock seconds
# (it polls for the outputs while the run follows): the chat at 600x.
FAST = 600


class Past:
    """A session file whose whole window lies two days back, in real time (no
    --speed, no --start: the command a person types), over a simulator that
    played the same chat then."""

    def __init__(self, post=False):
        self.tmp = tempfile.mkdtemp(prefix="ck-capture-")
        self.start_ms = (now_ms() - TWO_DAYS_MS) // 1000 * 1000
        self.window = (self.start_ms - LEAD_MS, self.start_ms + DURATION_MS + GRACE_MS)
        self.path = os.path.join(self.tmp, "session.json")
        self.out = os.path.join(self.tmp, "out")
        self.post = post
        self.sim = None
        self.env = dict(os.environ, CK_TEST_TOKEN="test-token")

    def start_sim(self, *extra):
        self.sim = Sim(BIN, SCRIPT, SPEED, self.start_ms, *extra)
        return self.sim.base

    def write(self, base_url):
        write_session(self.path, base_url=base_url, start_ms=self.start_ms, duration="1h30m",
                      lead="15m", grace="30m", questions=[{"at": "5m", "text": "First question?"}])
        if self.post:
            doc = json.load(open(self.path))
            doc["post"] = True
            doc["platform"]["token_env"] = "CK_TEST_TOKEN"
            doc["welcome"] = {"at": "0s", "text": "Welcome to the test chat"}
            json.dump(doc, open(self.path, "w"))

    def run(self, *extra, timeout=150):
        cmd = [BIN, "run", self.path, "--no-status", "--out", self.out, *extra]
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.env)
        self.last = r.stdout + r.stderr
        return r.returncode, self.last, time.time() - t0

    def messages(self):
        return read_jsonl(os.path.join(self.out, "messages.jsonl"))

    def check_exactly_once(self):
        # The tagged statuses whose created_at (the chat's clock) is in the window.
        want = sorted(st["id"] for st in self.sim.get("/sim/statuses")
                      if st["has_hashtag"] and self.window[0] <= st["chat_ms"] <= self.window[1])
        got = [m["id"] for m in self.messages()]
        check(len(want) > 150, f"the script showed only {len(want)} statuses")
        check(len(got) == len(set(got)), "a message appears twice in messages.jsonl")
        missing = sorted(set(want) - set(got))
        check(not missing, f"{len(missing)} statuses never captured, e.g. {missing[:3]}")
        journal = read_jsonl(os.path.join(self.out, "journal.jsonl"))
        keys = [(e["object"]["id"], e["object"].get("edited_at")) for e in journal]
        check(len(keys) == len(set(keys)), "the journal holds a status twice")
        # Replies that dropped the hashtag come only from the threads.
        untagged = [x["id"] for x in self.sim.get("/sim/statuses")
                    if not x["has_hashtag"] and x["in_reply_to_id"] and not x["posted"]
                    and self.window[0] <= x["created_ms"] <= self.window[1]]
        check(len(untagged) >= 5, f"the script has only {len(untagged)} untagged replies")
        lost = [i for i in untagged if i not in set(got)]
        check(not lost, f"{len(lost)} replies without the hashtag were not fetched")

    def close(self):
        if self.sim is not None:
            self.sim.stop()
        if os.environ.get("CK_KEEP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def scenario(fn):
    def wrapper():
        p = Past(post=getattr(fn, "post", False))
        try:
            fn(p)
        except Exception:
            sys.stdout.write(getattr(p, "last", "")[-4000:])
            raise
        finally:
            p.close()
    wrapper.__name__ = fn.__name__
    return wrapper


@scenario
def test_past_session_observe_builds_the_archive(p):
    p.write(p.start_sim())
    code, log, _ = p.run("--observe")
    check(code == 0, f"run --observe of a past chat exited {code}")
    check("the chat is over" in log, "the run did not say the chat is over")
    check("ran out of time" not in log, "the sweep of a past chat ran out of time")
    p.check_exactly_once()
    check(os.path.exists(os.path.join(p.out, "transcript.html")), "no transcript.html")
    # The thread tally accounts for every thread it said might hold replies.
    tally = re.search(r"threads: (\d+) thread\(s\) may hold replies: ([^\n]*)", log)
    check(tally, "no thread tally in the log")
    parts = re.findall(r"(\d+) (?:fetched|already inside|deleted|not fetched)", tally.group(2))
    check(sum(map(int, parts)) == int(tally.group(1)),
          f"the thread tally does not add up: {tally.group(0)}")


def posting(fn):
    fn.post = True
    return fn


@scenario
@posting
def test_past_session_run_posts_nothing(p):
    p.write(p.start_sim(*BUDGET))
    code, log, _ = p.run()
    check(code == 0, f"run of a past chat exited {code}")
    check("the chat is over" in log and "no step of the run sheet is posted now" in log,
          "the run did not say that the chat is over and nothing is posted")
    posts = [r for r in p.sim.get("/sim/requests") if r["method"] == "POST"]
    check(not posts, f"a past chat's run sheet was posted: {posts[:2]}")
    p.check_exactly_once()
    # Capturing needs no token: without one, the same run still archives the chat.
    del p.env["CK_TEST_TOKEN"]
    p.out = os.path.join(p.tmp, "out-without-token")
    code, log, _ = p.run()
    check(code == 0, f"run of a past chat without a token exited {code}")
    check(not [r for r in p.sim.get("/sim/requests") if r["method"] == "POST"],
          "a past chat's run sheet was posted")
    p.check_exactly_once()


@scenario
def test_unreachable_fails_then_same_command_continues(p):
    # A port that is bound but never listens: every connection is refused, and
    # no other process can take the port before the simulator gets it.
    hold = socket.socket()
    hold.bind(("127.0.0.1", 0))
    port = hold.getsockname()[1]
    p.write(f"http://127.0.0.1:{port}")
    try:
        code, log, took = p.run("--observe", timeout=150)
    finally:
        hold.close()
    check(code != 0, "a run whose platform never answered exited 0")
    check(took < 120, f"giving up took {took:.0f}s (about a minute wanted)")
    check("done:" not in log, "an unreachable platform still ended with 'done:'")
    check("did not answer" in log and "connect" in log.lower(),
          "the message does not say what failed")
    check("run the same command again" in log, "the message does not say how to continue")
    check(not os.path.exists(os.path.join(p.out, "messages.jsonl")),
          "an empty archive was written for a chat nobody could read")
    state = json.load(open(os.path.join(p.out, "state.json")))
    check(state.get("phase") == "incomplete", f"state.json phase is {state.get('phase')}")
    # The same command, now that the platform answers on that port.
    p.sim = SimOnPort(port, p.start_ms)
    code, log, _ = p.run("--observe")
    check(code == 0, f"the same command did not finish once the platform answered ({code})")
    p.check_exactly_once()


class SimOnPort(Sim):
    """The simulator on a given port (the session file names it), with the
    10 s budget window (BUDGET)."""

    def __init__(self, port, start_ms):
        self.tmp = tempfile.mkdtemp(prefix="ck-sim-")
        self.log = open(os.path.join(self.tmp, "sim.log"), "w")
        portfile = os.path.join(self.tmp, "port")
        self.proc = subprocess.Popen(
            [BIN, "simulate", SCRIPT, "--port", str(port), "--speed", str(SPEED),
             "--start", iso(start_ms), "--port-file", portfile, *BUDGET],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(portfile):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("simulator did not start: " + open(self.log.name).read())
            time.sleep(0.05)
        self.port = port
        self.base = f"http://127.0.0.1:{port}"


def test_outputs_refreshed_during_the_chat():
    tmp = tempfile.mkdtemp(prefix="ck-refresh-")
    out = os.path.join(tmp, "out")
    path = os.path.join(tmp, "session.json")
    write_session(path, base_url="https://example.invalid", start_ms=now_ms(),
                  duration="1h30m", lead="15m", grace="30m",
                  questions=[{"at": "5m", "text": "How do you use online networks for CPD?"}])
    log = open(os.path.join(tmp, "run.log"), "w")
    proc = subprocess.Popen([BIN, "run", path, "--rehearse", SCRIPT, "--speed", str(FAST),
                             "--status", "--out", out], stdout=log, stderr=subprocess.STDOUT)
    try:
        seen = None
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            msgs = read_jsonl(os.path.join(out, "messages.jsonl"))
            if len(msgs) >= 10 and os.path.exists(os.path.join(out, "transcript.html")):
                r = subprocess.run([BIN, "catchup", out, "--no-pager"], capture_output=True,
                                   text=True, timeout=30)
                state = json.load(open(os.path.join(out, "state.json")))
                if proc.poll() is None and state.get("phase") == "following":
                    seen = (r, len(msgs))
                    break
            time.sleep(0.2)
        check(seen is not None, "messages.jsonl and transcript.html never appeared during the run")
        r, n = seen
        check(r.returncode == 0, f"catchup during the chat failed: {r.stderr}")
        check(r.stdout.count("\n") >= n, f"catchup printed too little: {r.stdout[:300]}")
        check(proc.wait(120) == 0, "the rehearsal did not finish")
        # The end still rebuilds everything: at least what latecomers saw.
        check(len(read_jsonl(os.path.join(out, "messages.jsonl"))) >= n, "messages went missing")
        # The status line (--status): a countdown to what comes next, no request counter.
        log.flush()
        drawn = open(log.name, newline="").read().split("\r")
        lines = [x[3:] for x in drawn if x.startswith("\033[K")]
        lines = [x.split("\n")[0] for x in lines if x.strip()]
        # Log lines are printed after the status line is cleared ("\r\033[K"
        # too) and start with the time and a level ("20:01:02 warn ..."); a
        # status line has its clock (and zone) and two spaces before the phase.
        lines = [x for x in lines if re.match(r"\d\d:\d\d:\d\d( \S+)?  \S", x)]
        check(lines, "no status line was drawn")
        check(not [x for x in lines if "request" in x and "failed" not in x],
              f"a status line counts requests: {lines[:3]}")
        timed = [x for x in lines
                 if re.match(r"\d\d:\d\d:\d\d( \S+)?  (lead|chat)( \S+)?  \S.* in \d+[hms]", x)]
        check(timed, f"no status line counts down to the next step: {lines[:5]}")
    except Exception:
        log.flush()
        sys.stdout.write(open(log.name).read()[-4000:])
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        if not os.environ.get("CK_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def children_of(pid):
    """The pids of pid's children (every thread's), from /proc."""
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            kids += [int(x) for x in open(f"/proc/{pid}/task/{task}/children").read().split()]
        except OSError:
            pass
    return kids


def alive(pid):
    """Whether pid runs (a zombie waiting for its reaper does not)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("State:"):
                return line.split()[1] != "Z"
    except OSError:
        pass
    return False


def test_refresh_builds_in_a_child_that_dies_with_the_run():
    tmp = tempfile.mkdtemp(prefix="ck-refresh-child-")
    out = os.path.join(tmp, "out")
    path = os.path.join(tmp, "session.json")
    write_session(path, base_url="https://example.invalid", start_ms=now_ms(),
                  duration="1h30m", lead="15m", grace="30m",
                  questions=[{"at": "5m", "text": "How do you use online networks for CPD?"}])
    log = open(os.path.join(tmp, "run.log"), "w")
    proc = subprocess.Popen([BIN, "run", path, "--rehearse", SCRIPT, "--speed", str(SPEED),
                             "--no-console", "--out", out], stdout=log, stderr=subprocess.STDOUT)
    build, others = None, []
    try:
        deadline = time.time() + 60
        while build is None and time.time() < deadline and proc.poll() is None:
            for kid in children_of(proc.pid):
                try:
                    argv = open(f"/proc/{kid}/cmdline", "rb").read().split(b"\0")
                except OSError:
                    continue
                if argv[1:3] == [b"archive", os.fsencode(out)]:
                    build = kid
            time.sleep(0.005)
        check(build is not None, "no refresh was built by a child 'chatkeeper archive' process")
        others = [k for k in children_of(proc.pid) if k != build]  # the rehearsal's simulator
        proc.kill()
        proc.wait()
        deadline = time.time() + 20
        while alive(build) and time.time() < deadline:
            time.sleep(0.05)
        check(not alive(build), "the refresh build went on after the run was killed")
    except Exception:
        log.flush()
        sys.stdout.write(open(log.name).read()[-4000:])
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for kid in ([build] if build is not None else []) + others:
            if alive(kid):
                os.kill(kid, 9)
        log.close()
        if not os.environ.get("CK_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    tests = [test_past_session_observe_builds_the_archive, test_past_session_run_posts_nothing,
             test_unreachable_fails_then_same_command_continues,
             test_outputs_refreshed_during_the_chat,
             test_refresh_builds_in_a_child_that_dies_with_the_run]
    names = sys.argv[3:]
    if names:
        tests = [t for t in tests if t.__name__ in names]
    sys.exit(run_tests(tests))
