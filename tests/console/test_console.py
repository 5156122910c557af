"""The facilitators' console over HTTP, against a real rehearsal (the run's own
simulator on 127.0.0.1) and then `chatkeeper review` of the session it made.

  - `run` prints `console: http://127.0.0.1:PORT/#k=SECRET` on stdout (a pipe
    here) before the chat starts; the page loads without the key, every /api/
    request without it (or with a wrong one) gets 403 and an empty body;
  - a Host that is not the console's (DNS rebinding) or an Origin of another
    site gets 403, even with the key;
  - the event stream sends the run's state; controls: two "post next now" at
    once post the step once (one 200, one 409), a control for a posted step is
    409, skip keeps a step from going out, an edit longer than the limit is
    refused and a good one is what goes out, hold and resume answer;
  - in the end every step went out at most once, the controls are events in
    the journal, and the secret is in no log line, journal or archive file;
  - review: move, hide, opt out land in overrides.json (a hand edit made in
    between is kept), the outputs are rebuilt, a broken file is answered 409.

With "restart": a hold and an edit survive SIGTERM and a restart.

usage: test_console.py CHATKEEPER SESSION SCRIPT [restart]"""
import calendar
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

BIN, SESSION, SCRIPT = sys.argv[1:4]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fastsession import SPEED, fast_session  # noqa: E402  (lead 10 s of wall clock, 360x)
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


class Console:
    def __init__(self, url):
        m = re.match(r"http://(127\.0\.0\.1):(\d+)/#k=([A-Za-z0-9_-]+)$", url)
        self.host, self.port, self.key = m.group(1), int(m.group(2)), m.group(3)

    def req(self, method, path, body=None, key=True, headers=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = {"Content-Type": "application/json"} if body is not None else {}
        if key is True:
            h["X-Console-Key"] = self.key
        elif key:
            h["X-Console-Key"] = key
        h.update(headers or {})
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, dict(r.getheaders())

    def state(self):
        return json.loads(self.req("GET", "/api/state")[1])

    def control(self, body):
        st, data, _ = self.req("POST", "/api/control", body)
        return st, json.loads(data).get("message", "") if data else ""


def wait_for(what, fn, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    check(False, "timed out waiting for " + what)
    return None


def read_url(proc, out_lines):
    """The console line, read from the run's stdout pipe as it comes."""
    line = proc.stdout.readline()
    out_lines.append(line)
    return line.split("console: ", 1)[1].strip() if line.startswith("console: ") else None


def access_checks(con):
    st, body, h = con.req("GET", "/", key=False)
    check(st == 200 and b"console.js" in body, "/ loads without the key")
    check("script-src 'self'" in h.get("Content-Security-Policy", ""), "the page has a CSP")
    check(len(body) + len(con.req("GET", "/console.js", key=False)[1]) +
          len(con.req("GET", "/console.css", key=False)[1]) < 100_000, "page weight under 100 KB")
    for what, key in (("no key", False), ("a wrong key", "A" * 24), ("a short key", "abc")):
        st, body, _ = con.req("GET", "/api/state", key=key)
        check(st == 403 and body == b"", f"/api/state with {what}: 403 and nothing else")
        st, body, _ = con.req("POST", "/api/control", {"action": "hold"}, key=key)
        check(st == 403 and body == b"", f"a control with {what}: 403 and nothing else")
    st, body, _ = con.req("GET", "/api/state", headers={"Host": "evil.example:%d" % con.port})
    check(st == 403 and body == b"", "a foreign Host (DNS rebinding) is refused with the key")
    st, _, _ = con.req("GET", "/", key=False, headers={"Host": "evil.example"})
    check(st == 403, "a foreign Host is refused for the page too")
    st, _, _ = con.req("POST", "/api/control", {"action": "hold"},
                       headers={"Origin": "http://evil.example"})
    check(st == 403, "a cross-origin control is refused")
    st, _, _ = con.req("GET", "/api/state",
                       headers={"Origin": "http://127.0.0.1:%d" % con.port})
    check(st == 200, "the console's own origin is accepted")
    st, data, _ = con.req("POST", "/api/control", None, headers={"Content-Type": "application/json"})
    check(st == 400, "a malformed control is 400 (%d %s)" % (st, data[:80]))


def sse_first_state(con):
    """Open the event stream and return the first state event's document."""
    c = http.client.HTTPConnection(con.host, con.port, timeout=30)
    c.request("GET", "/api/events", headers={"X-Console-Key": con.key})
    r = c.getresponse()
    buf = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        buf += r.read1(65536)
        m = re.search(rb"event: state\ndata: (.*?)\n\n", buf, re.S)
        if m:
            r.close()
            c.close()
            return r.getheader("Content-Type"), json.loads(m.group(1))
    r.close()
    c.close()
    return None, None


def controls(con):
    # During the lead time: the welcome is next for a few seconds yet.
    s = wait_for("the lead time", lambda: (lambda s: s if s["phase"] == "lead" else None)(
        con.state()))
    nxt = s["next"]["label"]
    results = []

    def press():
        results.append(con.control({"action": "post_now", "step": nxt}))
    ts = [threading.Thread(target=press) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    codes = sorted(r[0] for r in results)
    check(codes == [200, 409], f"two pages press 'post {nxt} now' at once: {results}")
    st, msg = con.control({"action": "post_now", "step": nxt})
    check(st == 409 and nxt in msg, f"post {nxt} again: 409 saying so ({msg})")
    check(con.control({"action": "post_now", "step": "Q99"})[0] == 400, "an unknown step is 400")
    check(con.control({"action": "fly"})[0] == 400, "an unknown action is 400")
    s = con.state()
    upcoming = [x["label"] for x in s["steps"] if x["status"] == "upcoming"]
    skip, edit = upcoming[1], upcoming[2]
    st, msg = con.control({"action": "skip", "step": skip})
    check(st == 200, f"skip {skip}: {msg}")
    st, msg = con.control({"action": "edit", "step": edit, "text": "x" * 600})
    check(st == 400 and "too long" in msg, f"an edit over the limit is refused: {msg}")
    # Fine on Mastodon (500), too long on the session's Bluesky source (300
    # graphemes): the platform's own limit, as `check` judges it, and why.
    st, msg = con.control({"action": "edit", "step": edit, "text": "y" * 350})
    check(st == 400 and "bluesky" in msg and "allows 300" in msg,
          f"an edit over Bluesky's 300 is refused, saying so: {msg}")
    step = next(x for x in con.state()["steps"] if x["label"] == edit)
    check(step["max"] == 300, f"the page is told the tightest limit ({step['max']})")
    st, msg = con.control({"action": "edit", "step": edit, "text": "Edited from the console?"})
    check(st == 200, f"edit {edit}: {msg}")
    st, msg = con.control({"action": "hold"})
    check(st == 200, f"hold: {msg}")
    check(con.control({"action": "hold"})[0] == 409, "hold twice: 409")
    check(con.state()["held"], "the state says held")
    st, msg = con.control({"action": "resume", "shift": False})
    check(st == 200, f"resume keeping times: {msg}")
    return nxt, skip, edit


def host_posts(journal):
    posts = {}
    with open(journal) as f:
        for line in f:
            e = json.loads(line)
            o = e["object"]
            if e["platform"] == "mastodon" and (o.get("application") or {}).get("name") == "chatkeeper":
                posts.setdefault(o["id"], o["content"])
    return list(posts.values())


def review(tmp, out, secret_old):
    proc = subprocess.Popen([BIN, "review", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        url = read_url(proc, [])
        check(url is not None, "review prints the console's address")
        con = Console(url)
        check(con.key != secret_old, "a fresh secret per process")
        check(con.req("GET", "/api/state", key=False)[0] == 403, "review: no key, 403")
        s = con.state()
        check(s["mode"] == "review" and len(s["messages"]) > 50,
              f"review shows every message ({len(s['messages'])})")
        msgs = s["messages"]
        a = next(m for m in msgs if m["questions"] and m["by"] != "question")
        target = 2 if a["questions"][0] != 2 else 3
        st, msg = con.control({"action": "move", "id": a["id"], "question": target})
        check(st == 200, f"move {a['id']} to Q{target}: {msg}")
        ov_path = os.path.join(out, "overrides.json")
        ov = json.load(open(ov_path))
        check(ov.get("move", {}).get(a["id"]) == [target], "the move is in overrides.json")
        # A hand edit between two changes from the page is kept.
        b = next(m for m in msgs if m["id"] != a["id"] and m["by"] != "question")
        ov.setdefault("hide", []).append(b["id"])
        with open(ov_path, "w") as f:
            json.dump(ov, f)
        victim = next(m for m in msgs if m["handle"] != a["handle"] and m["by"] != "question" and
                      m["id"] != b["id"])
        st, msg = con.control({"action": "opt_out", "handle": victim["handle"]})
        check(st == 200, f"opt out {victim['handle']}: {msg}")
        ov = json.load(open(ov_path))
        check(b["id"] in ov.get("hide", []) and victim["handle"] in ov.get("opt_out", []) and
              ov["move"].get(a["id"]) == [target], f"the hand edit and both changes are kept: {ov}")
        recs = [json.loads(l) for l in open(os.path.join(out, "messages.jsonl"))]
        moved = next((r for r in recs if r["id"] == a["id"]), None)
        check(moved is not None and moved["questions"] == [target] and
              moved["assigned_by"] == "override", "the outputs were rebuilt with the move")
        check(not any(r["author"]["handle"] == victim["handle"] for r in recs),
              "the opted-out person is left out of messages.jsonl")
        s2 = con.state()
        check(len(s2["messages"]) < len(msgs) and s2["writeup"], "the page shows the rebuilt view "
              "and the write-up preview")
        undo_checks(con, out, ov_path, msgs, b, victim)
        st, msg = con.control({"action": "move", "id": a["id"], "question": 99})
        check(st == 400, f"a question the session does not have is 400: {msg}")
        with open(ov_path, "w") as f:
            f.write("{broken")
        st, msg = con.control({"action": "hide", "id": a["id"]})
        check(st == 409 and open(ov_path).read() == "{broken",
              f"a broken hand edit is answered 409 and left alone: {msg}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        check(rc == 0, f"review stops on SIGTERM (exit {rc})")


def undo_checks(con, out, ov_path, msgs, hidden, victim):
    """Un-hide, un-spam and opt in again: each takes back its override in
    overrides.json (atomically, the rest kept) and the outputs are rebuilt."""
    def recs():
        return {r["id"]: r for r in map(json.loads, open(os.path.join(out, "messages.jsonl")))}
    s = con.state()
    check(any(h["id"] == hidden["id"] and not h["spam"] for h in s["hidden"]) and
          victim["handle"] in s["opted_out"], "the page lists what is hidden and who opted out")
    spam = next(m for m in msgs if m["by"] != "question" and m["id"] != hidden["id"] and
                m["handle"] != victim["handle"] and m["questions"])
    st, msg = con.control({"action": "spam", "id": spam["id"]})
    check(st == 200 and spam["id"] not in recs(), f"spam {spam['id']}: left out ({msg})")
    listed = next((h for h in con.state()["hidden"] if h["id"] == spam["id"]), None)
    check(listed is not None and listed["spam"] and listed["text"] and
          spam["text"].startswith(listed["text"]),
          f"the page lists it as spam, with its text ({listed})")
    st, msg = con.control({"action": "unhide", "id": "no-such-id"})
    check(st == 409, f"un-hiding what is not hidden is 409 ({msg})")
    st, msg = con.control({"action": "unspam", "id": hidden["id"]})
    check(st == 409, f"un-spam of a message only hidden is 409 ({msg})")
    before = json.load(open(ov_path))
    st, msg = con.control({"action": "unspam", "id": spam["id"]})
    ov = json.load(open(ov_path))
    check(st == 200 and spam["id"] not in ov.get("hide", []) and spam["id"] not in ov["move"],
          f"un-spam takes the hide and the move back ({msg}; {ov})")
    check({k: v for k, v in ov["move"].items()} ==
          {k: v for k, v in before["move"].items() if k != spam["id"]},
          "the other moves are kept")
    back = recs().get(spam["id"])
    check(back is not None and not back.get("spam") and back["questions"] == spam["questions"],
          "the outputs are rebuilt with the message filed again")
    st, msg = con.control({"action": "unhide", "id": hidden["id"]})
    ov = json.load(open(ov_path))
    check(st == 200 and hidden["id"] not in ov.get("hide", []) and hidden["id"] in recs(),
          f"un-hide: back in overrides.json and the outputs ({msg})")
    st, msg = con.control({"action": "opt_in", "handle": victim["handle"]})
    ov = json.load(open(ov_path))
    check(st == 200 and victim["handle"] not in ov.get("opt_out", []) and
          any(r["author"]["handle"] == victim["handle"] for r in recs().values()),
          f"opt in again: the person's messages are back ({msg})")
    check(con.control({"action": "opt_in", "handle": victim["handle"]})[0] == 409,
          "opting in someone not opted out is 409")
    s = con.state()
    check(s["hidden"] == [] and s["opted_out"] == [], "the page lists nothing left out")
    check(s["published"] == [] and not s["publishable"], "the rehearsal has nothing to publish")


def restart():
    """A hold and an edit survive SIGTERM and a restart (state.json's "console")."""
    with tempfile.TemporaryDirectory(prefix="ck-console-restart-") as tmp:
        out = os.path.join(tmp, "session")
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(time.time()) + 14))
        args = [BIN, "run", fast_session(SESSION, tmp), "--rehearse", SCRIPT, "--speed", SPEED,
                "--out", out,
                "--no-status", "--start", start]
        err = open(os.path.join(tmp, "stderr.log"), "w")
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True, cwd=tmp)
        try:
            con = Console(read_url(proc, []))
            wait_for("the lead time", lambda: con.state().get("phase") == "lead")
            st, msg = con.control({"action": "edit", "step": "Q2", "text": "Edited before the restart?"})
            check(st == 200, f"edit Q2: {msg}")
            check(con.control({"action": "hold"})[0] == 200, "hold")
            # Past the welcome's time: a restart must not take it up while held.
            wait_for("the welcome's time", lambda: con.state()["steps"][0]["at_ms"] + 1500 <
                     time.time() * 1000)
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=60)
            check(rc == 143, f"SIGTERM saves and stops (exit {rc})")
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True, cwd=tmp)
            con = Console(read_url(proc, []))
            s = wait_for("the restarted run's view", lambda: (
                lambda s: s if s.get("mode") == "live" else None)(con.state()))
            check(s is not None and s["held"], "still held after the restart")
            q2 = next(x for x in s["steps"] if x["label"] == "Q2")
            check(q2["raw"] == "Edited before the restart?", f"the edit survived ({q2['raw']})")
            welcome = next(x for x in s["steps"] if x["label"] == "welcome")
            check(welcome["status"] == "upcoming", f"nothing went out while held ({welcome})")
            resumed = time.time()
            st, msg = con.control({"action": "resume", "shift": True})
            check(st == 200, f"resume, moving later steps: {msg}")
            rc = proc.wait(timeout=240)
            check(rc == 0, f"the restarted rehearsal ends well (exit {rc})")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            err.close()
        posts = host_posts(os.path.join(out, "journal.jsonl"))
        check(sum(1 for p in posts if p.startswith("<p>Welcome")) == 1, "the welcome went out once")
        posted_at = json.load(open(os.path.join(out, "state.json")))["steps"]["welcome"]["posted_at"]
        t = calendar.timegm(time.strptime(posted_at[:19], "%Y-%m-%dT%H:%M:%S"))
        check(t >= int(resumed), f"the welcome went out after the resume ({posted_at})")
        check(sum(1 for p in posts if p.startswith("<p>Q2 Edited before the restart?")) == 1,
              "Q2 went out once, with the edited text")
        events = [json.loads(l)["object"]["action"] for l in open(os.path.join(out, "journal.jsonl"))
                  if '"source":"console"' in l]
        check(events == ["edit", "hold", "resume"], f"the journal keeps the controls ({events})")


def main():
    if sys.argv[4:] == ["restart"]:
        restart()
        print(f"{len(FAILS)} failed")
        sys.exit(1 if FAILS else 0)
    with tempfile.TemporaryDirectory(prefix="ck-console-") as tmp:
        out = os.path.join(tmp, "session")
        err_path = os.path.join(tmp, "stderr.log")
        # The chat starts in 14 s: 4 s waiting, then the lead (10 s at 360x), the welcome next.
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(time.time()) + 14))
        with open(err_path, "w") as err:
            proc = subprocess.Popen(
                [BIN, "run", fast_session(SESSION, tmp), "--rehearse", SCRIPT, "--speed", SPEED,
                 "--out", out,
                 "--no-status", "--start", start], stdout=subprocess.PIPE, stderr=err, text=True, cwd=tmp)
            lines = []
            try:
                url = read_url(proc, lines)
                check(url is not None, f"run prints the console's address first ({lines})")
                if url is None:
                    raise SystemExit(1)
                con = Console(url)
                check(len(con.key) >= 16, "the secret has at least 16 characters")
                early = wait_for("the run's first view", lambda: (
                    lambda s: s if s.get("mode") == "live" else None)(con.state()))
                check(early is not None and early["phase"] in ("waiting", "lead"),
                      f"the console answers while the run waits for its lead time "
                      f"({early.get('phase')})")
                access_checks(con)
                ctype, doc = sse_first_state(con)
                check(ctype is not None and ctype.startswith("text/event-stream") and
                      doc is not None and doc["mode"] == "live", "the event stream sends the state")
                nxt, skip, edit = controls(con)
                s = wait_for("a question with answers", lambda: (lambda s: s if any(
                    q["asked"] and q["answers"] > 0 for q in s["questions"]) else None)(con.state()))
                check(s is not None, "questions show their growing counts")
                rc = proc.wait(timeout=240)
            except subprocess.TimeoutExpired:
                print(open(err_path).read()[-3000:])
                raise
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            lines += proc.stdout.readlines()
        check(rc == 0, f"the rehearsal ends well (exit {rc})")
        if rc != 0:
            print(open(err_path).read()[-3000:])
        state = json.load(open(os.path.join(out, "state.json")))
        steps = state["steps"]
        check(steps[nxt]["status"] == "posted", f"{nxt} was posted")
        check(steps[skip]["status"] == "skipped", f"{skip} was skipped: {steps[skip]}")
        posts = host_posts(os.path.join(out, "journal.jsonl"))
        for label in ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6"):
            n = sum(1 for p in posts if p.startswith("<p>" + label + " "))
            want = 0 if label == skip else 1
            check(n == want, f"{label} went out {n} time(s), {want} wanted")
        check(any("Edited from the console?" in p for p in posts), "the edited text went out")
        events = [json.loads(l)["object"] for l in open(os.path.join(out, "journal.jsonl"))
                  if '"source":"console"' in l]
        check([e["action"] for e in events] == ["post_now", "skip", "edit", "hold", "resume"],
              f"the controls are events in the journal ({[e['action'] for e in events]})")
        leaks = [name for root, _, files in os.walk(tmp) for name in files
                 if con.key in open(os.path.join(root, name), errors="replace").read()]
        check(not leaks, f"the secret is in no log, journal or archive file ({leaks})")
        check(sum(con.key in l for l in lines) == 1, "the secret is printed once")
        review(tmp, out, con.key)
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
