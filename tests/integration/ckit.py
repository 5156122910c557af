"""Helpers for integration tests: run the real chatkeeper binary against the
real simulator on 127.0.0.1, and read what both recorded."""
import json
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
from datetime import datetime, timezone


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_ms():
    return int(time.time() * 1000)


class Sim:
    """A simulator process playing script from start_ms at speed."""

    def __init__(self, binary, script, speed, start_ms, *extra):
        self.tmp = tempfile.mkdtemp(prefix="ck-sim-")
        portfile = os.path.join(self.tmp, "port")
        self.log = open(os.path.join(self.tmp, "sim.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "simulate", script, "--port", "0", "--speed", str(speed),
             "--start", iso(start_ms), "--port-file", portfile, *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        # Its port, once it listens (a bound: an ASan start on a busy machine
        # is slow, but a simulator that never listens must not hang the test).
        deadline = time.time() + 30
        while not os.path.exists(portfile) or not open(portfile).read().strip():
            if self.proc.poll() is not None or time.time() > deadline:
                with open(self.log.name) as f:
                    said = f.read()[-2000:]
                self.stop()
                raise RuntimeError("simulator did not start: " + said)
            time.sleep(0.05)
        self.port = int(open(portfile).read())
        self.base = f"http://127.0.0.1:{self.port}"

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        if self.log.closed:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if not os.environ.get("CK_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)


class SimSession:
    """A session on simulators: the fixture every end-to-end test shares.

    It owns a temporary directory, a chat start a little ahead (whole seconds,
    so the simulators and the run agree on it), the servers it is given (a Sim,
    a FakePDS: anything with stop()), the session file, every `chatkeeper run`
    it starts and that run's log. Leaving it (a `with` block, or close()) kills
    any run still going, stops every server and removes the directory (kept
    with CK_KEEP=1); a failure inside the block prints the run log's tail
    first. Waits poll a condition with a bounded timeout: nothing here sleeps
    and hopes."""

    def __init__(self, binary, *, speed, prefix="ck-", start_in_ms=2000, env=None,
                 run_args=(), log_tail=3000):
        self.binary, self.speed, self.run_args, self.log_tail = binary, speed, run_args, log_tail
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.start_ms = (now_ms() + start_in_ms) // 1000 * 1000
        self.servers, self.procs = [], []
        self.path = os.path.join(self.tmp, "session.json")
        self.out = os.path.join(self.tmp, "out")
        self.logpath = os.path.join(self.tmp, "run.log")
        self.log = open(self.logpath, "a")
        self.env = dict(os.environ, **(env or {}))

    def __init_subclass__(cls, **kw):
        """A subclass's set-up that fails half-way (a simulator that does not
        start) stops what it had started before the error goes on."""
        super().__init_subclass__(**kw)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        def guarded(self, *args, **kwargs):
            try:
                init(self, *args, **kwargs)
            except BaseException:
                if getattr(self, "log", None) is not None:
                    self.close()
                raise
        cls.__init__ = guarded

    def serve(self, server):
        """Adopt a server: it is stopped with the session."""
        self.servers.append(server)
        return server

    def start_sim(self, script, *args):
        """A simulator playing script on this session's clock."""
        return self.serve(Sim(self.binary, script, self.speed, self.start_ms, *args))

    def replace(self, old, new):
        """Stop a server and adopt its stand-in in its place."""
        old.stop()
        self.servers[self.servers.index(old)] = new
        return new

    def write(self, doc):
        with open(self.path, "w") as f:
            json.dump(doc, f, indent=2)

    def doc(self):
        with open(self.path) as f:
            return json.load(f)

    def spawn(self, *args):
        """Start `chatkeeper run` on the session (killed at close if still going)."""
        p = subprocess.Popen(
            [self.binary, "run", self.path, *self.run_args, "--no-status", "--out", self.out,
             "--speed", str(self.speed), "--start", iso(self.start_ms), *args],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        self.procs.append(p)
        return p

    def run(self, *args, timeout=120):
        """A whole run: its exit status (killed and raised if it outlasts timeout)."""
        p = self.spawn(*args)
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise

    def kill9_at_random(self, times, lo, hi, at_least):
        """Start the run `times` times, each killed with SIGKILL a random
        lo..hi seconds in (CK_SEED makes the moments repeatable): the fault is
        the random moment, so this is the one wait that is not a condition.
        At least at_least kills must land before the run ends by itself."""
        rng = random.Random(int(os.environ.get("CK_SEED", "0")) or None)
        kills = 0
        for _ in range(times):
            p = self.spawn()
            time.sleep(rng.uniform(lo, hi))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
                kills += 1
        check(kills >= at_least, "the run ended before it could be killed")

    def state(self):
        with open(os.path.join(self.out, "state.json")) as f:
            return json.load(f)

    def journal(self):
        return read_jsonl(os.path.join(self.out, "journal.jsonl"))

    def messages(self):
        return read_jsonl(os.path.join(self.out, "messages.jsonl"))

    def log_text(self):
        self.log.flush()
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def dump_log(self):
        sys.stdout.write(self.log_text()[-self.log_tail:])

    def close(self):
        if self.log.closed:
            return
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for s in self.servers:
            s.stop()
        self.log.close()
        if os.environ.get("CK_KEEP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        try:
            if kind is not None:
                self.dump_log()
        finally:
            self.close()
        return False


def scenario_of(make):
    """A decorator maker: @scenario(**kw) runs the test on make(**kw), a
    SimSession, and closes it whatever happens."""
    def scenario(**kw):
        def deco(fn):
            def wrapper():
                with make(**kw) as s:
                    fn(s)
            wrapper.__name__ = fn.__name__
            wrapper.__doc__ = fn.__doc__
            return wrapper
        return deco
    return scenario


def wait_until(cond, timeout, what, proc=None, every=0.05, required=True):
    """Poll cond() until it holds (its value returned); fail naming what after
    timeout seconds, or as soon as proc (a run that should still be going)
    ends. With required=False, give up quietly instead (cond()'s last value)."""
    deadline = time.time() + timeout
    while True:
        got = cond()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            if not required:
                return got
            raise Failure(f"the run ended (exit {proc.returncode}) before {what}")
        if time.time() >= deadline:
            if not required:
                return got
            raise Failure(f"no {what} in {timeout} s")
        time.sleep(every)


def check_steps_once(sim, steps, recorded):
    """Each of steps posted exactly once on sim: as many posts created as steps,
    every step posted with its own post (recorded: the steps' records in
    state.json), and the simulator's posts are those. Returns recorded."""
    posted = [s for s in sim.get("/sim/statuses") if s["posted"]]
    made = sim.get("/sim/stats")["posts_created"]
    check(made == len(steps), f"{sim.base}: {made} posts created for {len(steps)} steps")
    for k in steps:
        check(recorded.get(k, {}).get("status") == "posted", f"step {k}: {recorded.get(k)}")
    ids = [recorded[k].get("id") for k in steps]
    check(len(set(ids)) == len(steps), "two steps recorded the same post")
    check(set(ids) == {p["id"] for p in posted},
          f"state.json and {sim.base} disagree on the posts")
    return recorded


def burn_until_429(burn_url, ours, proc, window_ms, on_429=None):
    """Another client of the same account burns the rate budget in each
    window (windows of window_ms wall-clock milliseconds), until the run proc
    has met a 429 among its own requests (ours() lists them), at most a
    minute; returns those 429s. on_429(error) checks the simulator's 429."""
    def burn():
        for _ in range(100):
            try:
                urllib.request.urlopen(burn_url, timeout=5).read()
            except urllib.error.HTTPError as e:
                if e.code == 429:
                    if on_429:
                        on_429(e)
                    return True
        return False

    hits = []
    deadline = time.time() + 60
    while not hits and time.time() < deadline and proc.poll() is None:
        check(burn(), "the simulator never answered 429")
        time.sleep((window_ms - now_ms() % window_ms) / 1000 + 0.05)  # into the next window
        hits = [r for r in ours() if r["status"] == 429]
    check(hits, "the follower never met a 429 in a minute of burnt windows")
    return hits


def check_quiet_until_reset(hits, log, window_ms):
    """After each 429 the run sent nothing until its window reset."""
    for hit in hits:
        reset = hit["t"] - hit["t"] % window_ms + window_ms
        early = [r for r in log if hit["t"] < r["t"] < reset]
        check(not early, f"{len(early)} requests went after a 429 but before its reset")


def run_sheet(title, start, *, duration, questions, closing_at, closing="Thanks all", **more):
    """A session document with a run sheet on #uklibchat: a welcome at 0m,
    questions 1..questions a minute apart, a closing; lead 30 s, grace 1 m,
    polls every second; more adds or replaces keys. start: ms or a string."""
    doc = {"title": title, "hashtag": "uklibchat", "timezone": "Europe/London",
           "start": iso(start) if isinstance(start, int) else start, "duration": duration,
           "lead": "30s", "grace": "1m", "facilitators": ["@uklibchat@127.0.0.1"],
           "poll": {"chat": "1s", "quiet": "1s"},
           "welcome": {"at": "0m", "text": "Welcome to the test chat"},
           "questions": [{"at": f"{i}m", "text": f"Question number {i}?"}
                         for i in range(1, questions + 1)],
           "closing": {"at": closing_at, "text": closing}}
    doc.update(more)
    return doc


def write_session(path, *, base_url, start_ms, duration="10m", lead="1m", grace="2m",
                  questions=None, poll_chat="1s", poll_quiet="1s", hashtag="uklibchat",
                  streaming=None):
    qs = questions or [{"at": "1m", "text": "First question?"}]
    doc = {
        "title": "Integration test",
        "hashtag": hashtag,
        "timezone": "Europe/London",
        "start": iso(start_ms),
        "duration": duration,
        "lead": lead,
        "grace": grace,
        "platform": {"type": "mastodon", "base_url": base_url},
        "facilitators": ["@uklibchat@127.0.0.1"],
        "post": False,
        "poll": {"chat": poll_chat, "quiet": poll_quiet},
        "questions": qs,
    }
    if streaming is not None:
        doc["platform"]["streaming"] = streaming
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)


def read_jsonl(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
    return out


def expected_ids(sim, window_start_ms, window_end_ms):
    """Ids of the tagged statuses the simulator showed (or would show) in the window."""
    return sorted(s["id"] for s in sim.get("/sim/statuses")
                  if s["has_hashtag"] and window_start_ms <= s["created_ms"] <= window_end_ms
                  and s["visible_ms"] <= window_end_ms)


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run_tests(tests, names=()):
    """Run tests (only those named, if names are given) and report each."""
    if names:
        tests = [t for t in tests if t.__name__ in names]
    failed = 0
    for t in tests:
        name = t.__name__
        t0 = time.time()
        try:
            t()
            print(f"ok   {name} ({time.time() - t0:.1f}s)", flush=True)
        except Exception as e:  # report every failure, keep going
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0
