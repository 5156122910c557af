"""`chatkeeper serve` starts one console for every session it carries (issue
16), driven over HTTP: two sessions against simulators on 127.0.0.1 in
compressed time, the first over (its review) while the second runs (its
live view and controls).

  - serve prints `console: http://127.0.0.1:PORT/#k=SECRET` once, first;
  - the console's own view lists both sessions with their state;
  - a running session's room (?s=ID) shows its live view and takes its
    controls (hold and resume, answered by the runner);
  - a finished session's room shows its review, and a change from it lands
    in that session's overrides.json (the control carried out on serve's loop);
  - no key: 403; a room that does not exist: 404; SIGTERM: exit 0;
  - the key is in no log or archive file.

usage: test_console_serve.py CHATKEEPER SCRIPT"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from ckit import Sim, iso, now_ms  # noqa: E402

BIN, SCRIPT = sys.argv[1], sys.argv[2]
sys.argv[2:] = ["-", "-"]  # test_console's module reads SESSION and SCRIPT
from test_console import FAILS, Console, check, read_url  # noqa: E402

SPEED = 30


def session_doc(title, base, start_ms, archive, duration):
    return {
        "title": title, "hashtag": "uklibchat", "timezone": "Europe/London",
        "start": iso(start_ms), "duration": duration, "lead": "30s", "grace": "30s",
        "platform": {"type": "mastodon", "base_url": base, "token_env": "CK_TEST_TOKEN"},
        "facilitators": ["@uklibchat@127.0.0.1"], "post": True,
        "poll": {"chat": "1s", "quiet": "1s"}, "archive_dir": archive,
        "welcome": {"at": "0m", "text": f"Welcome to {title}"},
        "questions": [{"at": f"{i}m", "text": f"{title}: question {i}?"} for i in (1, 2)],
        "closing": {"at": "3m", "text": f"Thanks for coming to {title}"},
    }


def wait_for(what, fn, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    check(False, "timed out waiting for " + what)
    raise SystemExit(1)


def session(con, title):
    return next((x for x in con.state().get("sessions", []) if x["title"] == title), None)


def main():
    tmp = tempfile.mkdtemp(prefix="ck-console-serve-")
    archive = os.path.join(tmp, "archive")
    sims, proc = [], None
    log = open(os.path.join(tmp, "serve.log"), "w")
    try:
        a_start = (now_ms() + 4000) // 1000 * 1000
        # A is over (5 chat minutes, 10 s, then its sweep and threads) about
        # when B begins; B runs 40 s, so B is still running once A is done.
        b_start = a_start + 20000
        files = []
        for title, start, dur in (("Alpha chat", a_start, "4m"), ("Beta chat", b_start, "20m")):
            # The budget per 10 s, not 5 min (a 5-minute window holds each
            # session's sweep and threads to about a request a second).
            sim = Sim(BIN, SCRIPT, SPEED, start, "--rate-window", "10s")
            sims.append(sim)
            path = os.path.join(tmp, title.split()[0].lower() + ".json")
            json.dump(session_doc(title, sim.base, start, archive, dur), open(path, "w"))
            files.append(path)
        proc = subprocess.Popen([BIN, "serve", *files, "--speed", str(SPEED)],
                                stdout=subprocess.PIPE, stderr=log, text=True,
                                env=dict(os.environ, CK_TEST_TOKEN="test-token"))
        url = read_url(proc, [])
        check(url is not None, "serve prints the console's address first")
        con = Console(url)
        s = wait_for("the list of sessions", lambda: (lambda s: s if s.get("mode") == "serve" and
                     len(s["sessions"]) == 2 else None)(con.state()), proc)
        check(sorted(x["title"] for x in s["sessions"]) == ["Alpha chat", "Beta chat"],
              f"the console lists both sessions ({s['sessions']})")
        check(con.req("GET", "/api/state", key=False)[0] == 403, "no key: 403")
        check(con.req("GET", "/api/state?s=999")[0] == 404, "a room that does not exist: 404")

        a = wait_for("Alpha running", lambda: (lambda x: x if x and x["state"] == "running" and
                     x.get("room") else None)(session(con, "Alpha chat")), proc)
        check(con.req("GET", "/api/state?s=" + a["room"], key=False)[0] == 403,
              "a room without the key: 403")
        live = json.loads(con.req("GET", "/api/state?s=" + a["room"])[1])
        check(live.get("mode") == "live" and live.get("title") == "Alpha chat",
              f"Alpha's room shows its live view ({live.get('mode')}, {live.get('title')})")
        st, data, _ = con.req("POST", "/api/control?s=" + a["room"], {"action": "hold"})
        check(st == 200, f"hold from Alpha's room: {data[:100]}")
        st, data, _ = con.req("POST", "/api/control?s=" + a["room"],
                              {"action": "resume", "shift": False})
        check(st == 200, f"resume from Alpha's room: {data[:100]}")

        a = wait_for("Alpha's review", lambda: (lambda x: x if x and x["state"] == "finished" and
                     x.get("room") else None)(session(con, "Alpha chat")), proc, timeout=180)
        rev = json.loads(con.req("GET", "/api/state?s=" + a["room"])[1])
        check(rev.get("mode") == "review" and len(rev["messages"]) > 0,
              f"Alpha's room shows its review ({rev.get('mode')}, {len(rev.get('messages', []))})")
        m = next(x for x in rev["messages"] if x["by"] != "question")
        st, data, _ = con.req("POST", "/api/control?s=" + a["room"],
                              {"action": "hide", "id": m["id"]})
        check(st == 200, f"hide from Alpha's review: {data[:120]}")
        ov = json.load(open(os.path.join(a["dir"], "overrides.json")))
        check(m["id"] in ov.get("hide", []), "the change is in Alpha's overrides.json")
        rev = json.loads(con.req("GET", "/api/state?s=" + a["room"])[1])
        check(any(h["id"] == m["id"] for h in rev["hidden"]), "and the review shows it hidden")

        b = wait_for("Beta running", lambda: (lambda x: x if x and x["state"] == "running" and
                     x.get("room") else None)(session(con, "Beta chat")), proc)
        check(b["room"] != a["room"], "each session has its own room")
        live = json.loads(con.req("GET", "/api/state?s=" + b["room"])[1])
        check(live.get("mode") == "live" and live.get("title") == "Beta chat",
              "Beta's room shows Beta's live view while Alpha's shows its review")
        # serve's live views read their messages only once a page opens (a
        # hundred sessions, few watched): the room has none until then, and
        # with a page open it takes up what Beta has journaled and what comes.
        journaled = lambda: sum(1 for _ in open(os.path.join(b["dir"], "journal.jsonl")))
        wait_for("Beta's journal", lambda: os.path.exists(os.path.join(b["dir"], "journal.jsonl"))
                 and journaled() > 5, proc)
        live = json.loads(con.req("GET", "/api/state?s=" + b["room"])[1])
        check(live.get("messages") == 0, f"no page yet: Beta's view holds no messages "
              f"({live.get('messages')} of {journaled()} journal lines)")
        page = http.client.HTTPConnection(con.host, con.port, timeout=60)
        page.request("GET", "/api/events?s=" + b["room"], headers={"X-Console-Key": con.key})
        check(page.getresponse().status == 200, "a page opens Beta's room")
        n = wait_for("Beta's messages with a page open", lambda: json.loads(
            con.req("GET", "/api/state?s=" + b["room"])[1]).get("messages", 0), proc, timeout=60)
        check(n > 0, f"with a page open, Beta's view holds its messages ({n})")
        page.close()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        check(rc == 0, f"serve stops on SIGTERM (exit {rc})")
        rest = proc.stdout.read()
        check(con.key not in rest, "the key is printed once")
        log.close()
        leaks = [n for root, _, names in os.walk(tmp) for n in names
                 if con.key in open(os.path.join(root, n), errors="replace").read()]
        check(not leaks, f"the key is in no log or archive file ({leaks})")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for s in sims:
            s.stop()
        if not log.closed:
            log.close()
        if FAILS or os.environ.get("CK_KEEP"):
            print("log:", open(os.path.join(tmp, "serve.log")).read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
