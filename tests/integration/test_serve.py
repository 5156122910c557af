"""End to end: `chatkeeper serve` runs several sessions on one loop against
simulators on 127.0.0.1, in compressed time (--speed, as `run --speed`).
usage: test_serve.py CHATKEEPER SCRIPT [test names]"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from ckit import Sim, check, expected_ids, iso, now_ms, read_jsonl, run_tests  # noqa: E402

BIN, SCRIPT = sys.argv[1], sys.argv[2]
SPEED = 30
STEPS = ["welcome", "Q1", "Q2", "Q3", "closing"]
LEAD_MS, DURATION_MS, GRACE_MS = 30000, 8 * 60000, 60000
# The simulators' budget (300 requests) per 10 s of wall clock, not per 5 min:
# a 5-minute window held each session's sweep and threads at the end to about
# a request a second (by where the test fell in the wall clock's window),
# which no serve test is about; the follower still obeys the headers.
BUDGET = ("--rate-window", "10s")


def session_doc(title, base, start_ms, archive):
    return {
        "title": title, "hashtag": "uklibchat", "timezone": "Europe/London",
        "start": iso(start_ms), "duration": "8m", "lead": "30s", "grace": "1m",
        "platform": {"type": "mastodon", "base_url": base, "token_env": "CK_TEST_TOKEN"},
        "facilitators": ["@uklibchat@127.0.0.1"], "post": True,
        "poll": {"chat": "1s", "quiet": "1s"}, "archive_dir": archive,
        "welcome": {"at": "0m", "text": f"Welcome to {title}"},
        "questions": [{"at": f"{2 * i}m", "text": f"{title}: question {i}?"} for i in (1, 2, 3)],
        "closing": {"at": "7m", "text": f"Thanks for coming to {title}"},
    }


class Serve:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="ck-serve-")
        self.archive = os.path.join(self.tmp, "archive")
        self.log = open(os.path.join(self.tmp, "serve.log"), "a")
        self.env = dict(os.environ, CK_TEST_TOKEN="test-token")
        self.sims, self.proc = [], None

    def spawn(self, files, *extra):
        self.proc = subprocess.Popen([BIN, "serve", *files, "--speed", str(SPEED), *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        return self.proc

    def sim(self, start_ms):
        s = Sim(BIN, SCRIPT, SPEED, start_ms, *BUDGET)
        self.sims.append(s)
        return s

    def status(self):
        try:
            return json.load(open(os.path.join(self.archive, "serve-status.json")))
        except (OSError, ValueError):
            return {}

    def wait_for(self, what, cond, timeout=120):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if cond():
                return
            check(self.proc is None or self.proc.poll() is None,
                  f"serve exited ({self.proc.returncode}) while waiting for {what}")
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")

    def text(self):
        self.log.flush()
        return open(self.log.name).read()

    def stop(self):
        """SIGTERM: serve saves and exits 0 within seconds."""
        self.proc.send_signal(signal.SIGTERM)
        t0 = time.time()
        rc = self.proc.wait(15)
        check(rc == 0, f"serve exited {rc} on SIGTERM")
        check(time.time() - t0 < 10, "serve took more than 10 s to stop")

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for s in self.sims:
            s.stop()
        self.log.close()
        if os.environ.get("CK_KEEP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def phase(d):
    try:
        return json.load(open(os.path.join(d, "state.json"))).get("phase")
    except (OSError, ValueError):
        return None


def session_dir(archive, title):
    slug = title.lower().replace(" ", "-")
    for name in os.listdir(archive) if os.path.isdir(archive) else []:
        if name.endswith(slug):
            return os.path.join(archive, name)
    return None


def check_once(sim, d, start_ms):
    """Every step posted exactly once, and every status of the window captured once."""
    stats = sim.get("/sim/stats")
    check(stats["posts_created"] == len(STEPS),
          f"{d}: {stats['posts_created']} posts for {len(STEPS)} steps")
    steps = json.load(open(os.path.join(d, "state.json"))).get("steps", {})
    for k in STEPS:
        check(steps.get(k, {}).get("status") == "posted", f"{d}: step {k}: {steps.get(k)}")
    window = (start_ms - LEAD_MS // SPEED, start_ms + (DURATION_MS + GRACE_MS) // SPEED)
    want = expected_ids(sim, *window)
    got = [m["id"] for m in read_jsonl(os.path.join(d, "messages.jsonl"))]
    check(len(want) > 20, f"the script showed only {len(want)} statuses")
    check(len(got) == len(set(got)), f"{d}: a message appears twice")
    missing = sorted(set(want) - set(got))
    check(not missing, f"{d}: {len(missing)} statuses never captured, e.g. {missing[:3]}")


def scenario(fn):
    def wrapper():
        s = Serve()
        try:
            fn(s)
        except Exception:
            sys.stdout.write(s.text()[-4000:])
            raise
        finally:
            s.close()
    wrapper.__name__ = fn.__name__
    return wrapper


@scenario
def test_two_overlapping_sessions_across_kill9(s):
    """Two sessions 8 s apart (4 chat minutes), overlapping; serve is killed
    with -9 while both run, restarted, and both end complete, each step
    posted once."""
    a_start = (now_ms() + 5000) // 1000 * 1000
    b_start = a_start + 8000
    files = []
    for title, start in (("Alpha chat", a_start), ("Beta chat", b_start)):
        sim = s.sim(start)
        path = os.path.join(s.tmp, title.split()[0].lower() + ".json")
        json.dump(session_doc(title, sim.base, start, s.archive), open(path, "w"))
        files.append(path)
    s.spawn(files)
    s.wait_for("both running", lambda: len(s.status().get("running", [])) == 2)
    # Both are mid-chat: Beta's first step is out.
    s.wait_for("Beta's welcome", lambda: s.sims[1].get("/sim/stats")["posts_created"] >= 1)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    da, db = session_dir(s.archive, "Alpha chat"), session_dir(s.archive, "Beta chat")
    check(da and db, "the session directories were not made")
    check(phase(da) != "done" and phase(db) != "done", "killed too late to mean anything")
    s.spawn(files)
    s.wait_for("both done", lambda: phase(da) == "done" and phase(db) == "done")
    check_once(s.sims[0], da, a_start)
    check_once(s.sims[1], db, b_start)
    s.wait_for("status: both finished", lambda: len(s.status().get("finished", [])) == 2, 10)
    out = subprocess.run([BIN, "serve", *files, "--status"], capture_output=True, text=True)
    check(out.returncode == 0 and "Alpha chat" in out.stdout, f"--status: {out.stdout}")
    s.stop()
    check("test-token" not in s.text(), "the token appears in the log")


@scenario
def test_unwritable_archive_stops_only_that_session(s):
    """A session whose archive folder cannot be made stops with an error;
    the others run to the end; serve keeps running until SIGTERM. The good
    session's reminder goes out once, before the chat; the chat already
    running skips its reminder."""
    start = (now_ms() + 4000) // 1000 * 1000
    sim = s.sim(start)
    good = os.path.join(s.tmp, "good.json")
    doc = session_doc("Good chat", sim.base, start, s.archive)
    doc["reminders"] = [{"before": "1m", "text": "Soon: {{title}} #{{hashtag}} at {{time}}"}]
    json.dump(doc, open(good, "w"))
    # A chat that started 3 s ago: its reminder is never posted now.
    late = os.path.join(s.tmp, "late.json")
    doc = session_doc("Late chat", sim.base, start - 7000, s.archive)
    doc["reminders"] = [{"before": "1m", "text": "Soon: {{title}}"}]
    json.dump(doc, open(late, "w"))
    blocker = os.path.join(s.tmp, "not-a-folder")
    open(blocker, "w").write("x")
    bad = os.path.join(s.tmp, "bad.json")
    json.dump(session_doc("Bad chat", sim.base, start, os.path.join(blocker, "archive")),
              open(bad, "w"))
    s.spawn([good, bad, late], "--status-file", os.path.join(s.archive, "serve-status.json"))
    d = lambda: session_dir(s.archive, "Good chat")  # noqa: E731
    s.wait_for("the good session done", lambda: d() and phase(d()) == "done")
    steps = json.load(open(os.path.join(d(), "state.json")))["steps"]
    r1 = steps.get("reminder1", {})
    check(r1.get("status") == "posted", f"the reminder: {r1}")
    check(r1.get("posted_at", "z") < iso(start), f"the reminder went out after the start: {r1}")
    check(r1.get("in_reply_to_id") is None, "the reminder replies to something")
    dl = session_dir(s.archive, "Late chat")
    s.wait_for("the late session's welcome", lambda: "welcome" in json.load(
        open(os.path.join(dl, "state.json"))).get("steps", {}), 30)
    lr = json.load(open(os.path.join(dl, "state.json")))["steps"].get("reminder1", {})
    check(lr.get("status") == "skipped" and "started" in lr.get("reason", ""),
          f"the late chat's reminder: {lr}")
    fin = {f["title"]: f["status"] for f in s.status().get("finished", [])}
    check(fin.get("Bad chat", 0) != 0, f"the bad session did not fail: {fin}")
    check("not-a-folder" in s.text(), "the error does not name the folder")
    check(s.proc.poll() is None, "serve stopped")
    s.stop()


def write_series(s, name, start_title, cancelled=False, base="http://127.0.0.1:9",
                 rule="every thursday", date="2027-01-14"):
    folder = os.path.join(s.tmp, name + "-sessions")
    os.makedirs(folder, exist_ok=True)
    series = {
        "title": name, "rule": rule, "time": "19:00",
        "timezone": "Europe/London", "duration": "8m", "lead": "30s", "grace": "1m",
        "hashtag": "uklibchat",
        "platform": {"type": "mastodon", "base_url": base, "token_env": "CK_TEST_TOKEN"},
        "facilitators": ["@uklibchat@127.0.0.1"], "archive_dir": s.archive,
        "sessions": name + "-sessions", "poll": {"chat": "1s", "quiet": "1s"},
        "welcome": {"at": "0m", "text": "Welcome!"},
        "closing": {"at": "7m", "text": "Thanks all"},
    }
    path = os.path.join(s.tmp, name + ".json")
    json.dump(series, open(path, "w"))
    date = os.path.join(folder, date + ".json")
    doc = {"title": start_title, "questions": [{"at": f"{2 * i}m", "text": f"Q{i} of {name}?"}
                                               for i in (1, 2, 3)]}
    if cancelled:
        doc["cancelled"] = True
    json.dump(doc, open(date, "w"))
    return path, date


@scenario
def test_series_edit_sighup_and_cancelled(s):
    """A series date edited while serve waits (SIGHUP shows the new title; a
    broken edit keeps the last good version, loudly); another series' date is
    cancelled and runs nothing."""
    # serve's clock starts 15 s (real) before 19:00 (UTC in January): the
    # edits and SIGHUPs below each take well under a second (each waits for
    # its answer, up to 20 s), and the session's lead (30 s at 30x) begins
    # 14 s after serve starts.
    start_at = "2027-01-14T18:59:45Z"
    sim = s.sim(now_ms() + 15000)
    one, one_date = write_series(s, "one", "Old title", base=sim.base)
    two, _ = write_series(s, "two", "Not this week", cancelled=True)
    s.spawn([one, two], "--start-at", start_at)
    s.wait_for("Old title next", lambda: any(n["title"] == "Old title"
                                              for n in s.status().get("next", [])), 20)
    check(any(c["file"] == two for c in s.status().get("cancelled", [])),
          f"the cancelled date is not listed: {s.status()}")
    doc = json.load(open(one_date))
    doc["title"] = "New title"
    json.dump(doc, open(one_date, "w"))
    s.proc.send_signal(signal.SIGHUP)
    s.wait_for("New title next", lambda: any(n["title"] == "New title"
                                              for n in s.status().get("next", [])), 20)
    open(one_date, "w").write('{"title": "Broken", "questions": [}')
    s.proc.send_signal(signal.SIGHUP)
    s.wait_for("the loud error", lambda: "keeps its last good version" in s.text(), 20)
    d = lambda: session_dir(s.archive, "New title")  # noqa: E731
    s.wait_for("the session done", lambda: d() and phase(d()) == "done", 150)
    check(sim.get("/sim/stats")["posts_created"] == 5, "not every step was posted once")
    captured = open(os.path.join(d(), "messages.jsonl")).read()
    check("Q1 of one?" in captured, "the date's questions were not posted")
    check(session_dir(s.archive, "not-this-week") is None, "the cancelled date ran")
    s.stop()


class Hook:
    """A webhook receiver on 127.0.0.1 recording each JSON POST."""

    def __init__(self):
        import http.server
        import threading
        posts = self.posts = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                posts.append(json.loads(self.rfile.read(n)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/hook"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()


@scenario
def test_alerts_once_per_cause_by_webhook_and_mail(s):
    """A chat that started 5 s before serve with a 1 s missed_step_limit skips
    its first steps: one alert per skipped step, then "all done" at the end,
    to the webhook and through sendmail (a script on PATH); never the token."""
    hook = Hook()
    try:
        bindir = os.path.join(s.tmp, "bin")
        maildir = os.path.join(s.tmp, "mail")
        os.makedirs(bindir)
        os.makedirs(maildir)
        fake = os.path.join(bindir, "sendmail")
        open(fake, "w").write(f"#!/bin/sh\n[ \"$*\" = \"-t -i\" ] || exit 3\n"
                              f"cat > \"{maildir}/$(date +%s%N)-$$.txt\"\n")
        os.chmod(fake, 0o755)
        s.env["PATH"] = bindir + os.pathsep + s.env["PATH"]
        start = (now_ms() - 5000) // 1000 * 1000
        sim = s.sim(start)
        path = os.path.join(s.tmp, "alerting.json")
        doc = session_doc("Alerting chat", sim.base, start, s.archive)
        doc["missed_step_limit"] = "1s"
        doc["alerts"] = {"webhook": hook.url, "email": "team@example.org"}
        json.dump(doc, open(path, "w"))
        s.spawn([path])
        d = lambda: session_dir(s.archive, "Alerting chat")  # noqa: E731
        s.wait_for("the session done", lambda: d() and phase(d()) == "done")
        s.wait_for("the done alert", lambda: any("all done" in p["text"] for p in hook.posts), 20)
        texts = [p["text"] for p in hook.posts]
        check(any(t.startswith("step welcome skipped") for t in texts), f"alerts: {texts}")
        check(len(texts) == len(set(texts)), f"an alert was sent twice: {texts}")
        check(all(p["content"] == p["text"] and p["title"] for p in hook.posts), "fields")
        check("all done" in texts[-1] and "messages" in texts[-1], f"last alert: {texts[-1]}")
        mails = sorted(os.listdir(maildir))
        check(len(mails) == len(texts), f"{len(mails)} mails for {len(texts)} webhook alerts")
        first = open(os.path.join(maildir, mails[0])).read()
        check(first.startswith("To: team@example.org\nSubject: chatkeeper: Alerting chat"),
              f"mail: {first[:200]}")
        everything = json.dumps(hook.posts) + "".join(
            open(os.path.join(maildir, m)).read() for m in mails)
        check("test-token" not in everything, "the token is in an alert")
        s.stop()
    finally:
        hook.stop()


@scenario
def test_each_session_names_its_lines(s):
    """Two overlapping sessions: every line their runners, followers and
    posters write carries the session's directory name, so a journald reader
    tells them apart; serve's own lines carry none."""
    a_start = (now_ms() + 5000) // 1000 * 1000
    b_start = a_start + 4000
    files = []
    for title, start in (("Alpha chat", a_start), ("Beta chat", b_start)):
        sim = s.sim(start)
        path = os.path.join(s.tmp, title.split()[0].lower() + ".json")
        json.dump(session_doc(title, sim.base, start, s.archive), open(path, "w"))
        files.append(path)
    s.spawn(files)
    s.wait_for("both finished", lambda: len(s.status().get("finished", [])) == 2, 180)
    s.stop()
    da, db = session_dir(s.archive, "Alpha chat"), session_dir(s.archive, "Beta chat")
    tags = {os.path.basename(da), os.path.basename(db)}
    seen = {t: [] for t in tags}
    for line in s.text().splitlines():
        m = re.match(r"\S+ (?:debug|info |warn |error) (?:\[([^\]]+)\] )?(\w+):", line)
        if m is None:
            continue
        tag, who = m.groups()
        if who == "serve":
            check(tag is None, f"a line of serve's own carries a session: {line}")
        elif who in ("runner", "follower", "poster", "replies"):
            check(tag in tags, f"a session's line does not name its session: {line}")
            seen[tag].append(line)
    for d in (da, db):
        lines = seen[os.path.basename(d)]
        check(any("session directory " + d in ln for ln in lines),
              f"{d}: its directory line is not under its name")
        posted = [ln for ln in lines if "poster: posted" in ln]
        check(len(posted) == len(STEPS), f"{d}: {len(posted)} posts under its name: {posted}")
        check(any("follower:" in ln for ln in lines), f"{d}: no follower line under its name")


def test_bad_input_at_start():
    """A per-date file for a date the rule does not produce, a later date's
    file that does not pass check, a date's time in a DST gap: serve names the
    file and exits 2 before running anything."""
    s = Serve()
    try:
        path, _ = write_series(s, "odd", "Fine")
        wrong = os.path.join(s.tmp, "odd-sessions", "2027-01-15.json")  # a Friday
        json.dump({"title": "Friday", "questions": [{"at": "5m", "text": "Q?"}]}, open(wrong, "w"))
        p = subprocess.run([BIN, "serve", path], capture_output=True, text=True, timeout=30)
        check(p.returncode == 2, f"exit {p.returncode}: {p.stderr}")
        check("2027-01-15.json" in p.stderr, f"the file is not named: {p.stderr}")
        # A later date's file that does not pass check is found at start too.
        os.remove(wrong)
        later = os.path.join(s.tmp, "odd-sessions", "2027-03-04.json")
        open(later, "w").write('{"title": "March", "questions": [{"at": "5m", "txet": "Q?"}]}')
        p = subprocess.run([BIN, "serve", path], capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and "2027-03-04.json:1:" in p.stderr and "txet" in p.stderr,
              f"exit {p.returncode}: {p.stderr}")
        # A date's own time that the clocks skip (01:30 on 28 March 2027 in London).
        gap, gap_date = write_series(s, "gap", "Spring", rule="every sunday", date="2027-03-28")
        doc = json.load(open(gap_date))
        doc["time"] = "01:30"
        json.dump(doc, open(gap_date, "w"))
        p = subprocess.run([BIN, "serve", gap], capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and "2027-03-28.json:" in p.stderr and "time" in p.stderr,
              f"exit {p.returncode}: {p.stderr}")
    finally:
        s.close()


if __name__ == "__main__":
    tests = [test_two_overlapping_sessions_across_kill9,
             test_unwritable_archive_stops_only_that_session,
             test_series_edit_sighup_and_cancelled, test_bad_input_at_start,
             test_alerts_once_per_cause_by_webhook_and_mail, test_each_session_names_its_lines]
    names = sys.argv[3:]
    if names:
        tests = [t for t in tests if t.__name__ in names]
    sys.exit(run_tests(tests))
