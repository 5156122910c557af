"""Helpers for integration tests: run the real chatkeeper binary against the
real simulator on 127.0.0.1, and read what both recorded."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
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
        for _ in range(200):
            if os.path.exists(portfile):
                self.port = int(open(portfile).read())
                break
            if self.proc.poll() is not None:
                raise RuntimeError("simulator exited: " + open(self.log.name).read())
            time.sleep(0.05)
        else:
            raise RuntimeError("simulator did not start")
        self.base = f"http://127.0.0.1:{self.port}"

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
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


def run_tests(tests):
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
