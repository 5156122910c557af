"""The console's live panels over HTTP and SSE, against a real rehearsal on
Mastodon and Bluesky at once (the run's own simulator on 127.0.0.1), in a
folder that holds earlier sessions of the series.

  - "say hello to": each person whose first message ever is in this chat shows
    once, with their first message; people of an earlier session of the same
    hashtag (handles compared without case) never show, people of another
    hashtag's or of a later session do; the hosts (facilitators, and the
    account the run sheet goes out from) never show; a facilitator's reply
    clears a newcomer; a dismiss (a control: journaled, kept in state.json)
    clears one at once, and a second dismiss is 409;
  - "waiting for a host": a post that asks the host something shows as a
    question until a facilitator replies; one that only mentions the host
    shows as a mention until dismissed; answers that mention the host, a
    longer name and an e-mail address never show;
  - capture health per source: each source has its last good read, its
    request budget (remaining of limit, reset), errors and whether it streams;
  - the event stream sends the whole state once, then only what changed.

usage: test_console_panels.py CHATKEEPER SESSION SCRIPT"""
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

BIN, SESSION, SCRIPT = sys.argv[1:4]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fastsession import SPEED, fast_session  # noqa: E402  (lead 10 s of wall clock, 360x)
FAILS = []
HOSTILE_NAME = "<b>New</b> & \u202eeman <img src=x onerror=alert(1)>"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


class Console:
    def __init__(self, url):
        m = re.match(r"http://(127\.0\.0\.1):(\d+)/#k=([A-Za-z0-9_-]+)$", url)
        self.host, self.port, self.key = m.group(1), int(m.group(2)), m.group(3)

    def req(self, method, path, body=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = {"X-Console-Key": self.key}
        if body is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def state(self):
        return json.loads(self.req("GET", "/api/state")[1])

    def control(self, body):
        st, data = self.req("POST", "/api/control", body)
        return st, json.loads(data).get("message", "") if data else ""


def earlier_session(series, name, hashtag, start, handles):
    d = os.path.join(series, name)
    os.makedirs(d)
    doc = json.load(open(SESSION))
    doc.update({"hashtag": hashtag, "start": start})
    json.dump(doc, open(os.path.join(d, "session.json"), "w"))
    with open(os.path.join(d, "messages.jsonl"), "w") as f:
        for i, h in enumerate(handles):
            f.write(json.dumps({"id": str(i + 1), "platform": "mastodon",
                                "author": {"id": str(i + 1), "handle": h, "name": h},
                                "text": "hello #" + hashtag}) + "\n")


def script_with_panels(path):
    # The simulator puts 40% of the accounts on Bluesky by a stable draw from
    # their keys: these keys land on Mastodon, where replies cross no platform.
    # "nova" is a co-host local to the simulator (a rehearsal moves the
    # facilitators' accounts there).
    s = json.load(open(SCRIPT))
    s["accounts"]["firsttimer"] = {"username": "newbie", "display_name": HOSTILE_NAME,
                                   "domain": "example.social"}
    s["accounts"]["nova"] = {"username": "cohost", "display_name": "Co Host", "domain": None}
    s["accounts"]["lurker"] = {"username": "lurker", "display_name": "Quiet Lurker",
                               "domain": "example.social"}
    s["accounts"]["asker"] = {"username": "asker", "display_name": "Ada Asker",
                              "domain": "example.social"}
    s["statuses"] += [
        {"at": "20m", "account": "firsttimer", "key": "newbie1",
         "text": "Hello, first time here! #uklibchat"},
        {"at": "21m", "account": "firsttimer", "key": "newbie2", "text": "A2 still finding my feet #uklibchat"},
        {"at": "22m", "account": "lurker", "key": "lurk1", "text": "Just lurking tonight #uklibchat"},
        {"at": "24m", "account": "asker", "key": "ask1",
         "text": "@uklibchat will the slides be shared afterwards? #uklibchat"},
        {"at": "25m", "account": "asker", "key": "thx1", "text": "thanks @uklibchat for hosting #uklibchat"},
        {"at": "26m", "account": "asker", "key": "fan1",
         "text": "follow @uklibchatfan and mail me at ada@uklibchat.org? #uklibchat"},
        {"at": "50m", "account": "nova", "key": "jnew", "reply_to": "newbie1",
         "text": "@newbie@example.social welcome, lovely to have you! #uklibchat"},
        {"at": "52m", "account": "nova", "key": "jask", "reply_to": "ask1",
         "text": "@asker@example.social yes, on the blog tomorrow #uklibchat"},
    ]
    json.dump(s, open(path, "w"))


class Stream(threading.Thread):
    """One open page: the event stream's events, in order, until closed."""

    def __init__(self, con):
        super().__init__(daemon=True)
        self.con, self.events, self.conn = con, [], None

    def run(self):
        try:
            self.conn = http.client.HTTPConnection(self.con.host, self.con.port, timeout=60)
            self.conn.request("GET", "/api/events", headers={"X-Console-Key": self.con.key})
            r = self.conn.getresponse()
            buf = b""
            while True:
                chunk = r.read1(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    m = re.match(rb"event: (\w+)\ndata: (.*)", block, re.S)
                    if m:
                        self.events.append((m.group(1).decode(), json.loads(m.group(2))))
        except (OSError, http.client.HTTPException, ValueError):
            pass  # the run ended the stream


def main():
    with tempfile.TemporaryDirectory(prefix="ck-console-panels-") as tmp:
        series = os.path.join(tmp, "series")
        os.makedirs(series)
        earlier_session(series, "earlier", "uklibchat", "2026-11-05T20:00",
                        ["@gwenllian@mastodon.cymru", "@Siobhan@Mastodon.IE"])
        earlier_session(series, "other-chat", "critlib", "2026-11-01T20:00",
                        ["@lnowak@mastodon.social"])
        earlier_session(series, "later", "uklibchat", "2027-06-05T20:00",
                        ["@katecat@mastodon.social"])
        session = json.load(open(SESSION))
        session["facilitators"] = session.get("facilitators", []) + ["@cohost@glammr.us"]
        spath = fast_session(SESSION, tmp, session)
        script = os.path.join(tmp, "panels.chat.json")
        script_with_panels(script)
        out = os.path.join(series, "tonight")
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(time.time()) + 14))
        err_path = os.path.join(tmp, "stderr.log")
        err = open(err_path, "w")
        proc = subprocess.Popen([BIN, "run", spath, "--rehearse", script, "--speed", SPEED, "--out",
                                 out, "--no-status", "--start", start],
                                stdout=subprocess.PIPE, stderr=err, text=True, cwd=tmp)
        stream = None
        seen_new, seen_asks, gone = {}, {}, set()
        sources_seen = {}
        dismissed = {}
        try:
            line = proc.stdout.readline()
            check(line.startswith("console: "), f"the console's address is printed ({line!r})")
            con = Console(line.split(" ", 1)[1].strip())
            stream = Stream(con)
            stream.start()
            deadline = time.monotonic() + 240
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    s = con.state()
                except (OSError, ValueError, http.client.HTTPException):
                    break  # the run is ending
                if s.get("mode") != "live":
                    time.sleep(0.2)
                    continue
                new = {m["handle"]: m for m in s["newcomers"]}
                if len(new) != len(s["newcomers"]):
                    dismissed["dup"] = [m["handle"] for m in s["newcomers"]]
                for h, m in new.items():
                    seen_new.setdefault(h, m)
                for h in seen_new:
                    if h not in new:
                        gone.add(h)
                asks = {m["id"]: m for m in s["mentions"]}
                for i, m in asks.items():
                    seen_asks.setdefault(m["text"], m)
                for m in seen_asks.values():
                    if m["id"] not in asks:
                        gone.add(m["id"])
                for src in s.get("sources", []):
                    sources_seen[src["name"]] = src
                # Dismiss the lurker and the thank-you once they show.
                lurk = next((m for m in s["newcomers"] if m["handle"].startswith("@lurker@")), None)
                if lurk is not None and "lurker" not in dismissed:
                    dismissed["lurker"] = (lurk["handle"], con.control(
                        {"action": "dismiss", "handle": lurk["handle"].upper()}),
                        con.state()["newcomers"], con.control(
                        {"action": "dismiss", "handle": lurk["handle"]}))
                thx = next((m for m in s["mentions"] if "for hosting" in m["text"]), None)
                if thx is not None and "thx" not in dismissed:
                    dismissed["thx"] = (thx["id"], con.control({"action": "dismiss", "id": thx["id"]}),
                                        con.state()["mentions"])
                    dismissed["bad"] = (con.control({"action": "dismiss"}),
                                        con.control({"action": "dismiss", "id": "1",
                                                     "handle": "@a@b"}),
                                        con.control({"action": "dismiss", "id": "no-such-post"}))
                time.sleep(0.2)
            rc = proc.wait(timeout=240)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            err.close()
        check(rc == 0, f"the rehearsal ends well (exit {rc})")
        if rc != 0:
            print(open(err_path).read()[-3000:])

        # Newcomers.
        newbie = seen_new.get("@newbie@example.social")
        check(newbie is not None and newbie["text"].startswith("Hello, first time here!"),
              f"a first-timer shows with their first message ({newbie and newbie['text']})")
        check(newbie is not None and newbie["name"] == HOSTILE_NAME,
              "their display name comes as it was written (the page inserts it as text)")
        check(newbie is not None and newbie["handle"] in gone,
              "a facilitator's reply clears them from 'say hello to'")
        hs = set(h.lower() for h in seen_new)
        check("@gwenllian@mastodon.cymru" not in hs and "@siobhan@mastodon.ie" not in hs,
              "people of an earlier session of the series never show (case folded)")
        check("@lnowak@mastodon.social" in hs, "a person of another hashtag's session does show")
        check("@katecat@mastodon.social" in hs, "a person of a later session does show")
        check(not any(h.startswith("@cohost@") or h.startswith("@uklibchat@") for h in hs),
              f"the hosts never show ({sorted(h for h in hs if 'uklibchat' in h or 'cohost' in h)})")
        check(any(h.endswith(".bsky.social") for h in hs),
              "newcomers come from the Bluesky source too (both followers feed the console)")
        check("dup" not in dismissed, f"each newcomer shows once ({dismissed.get('dup')})")
        lk = dismissed.get("lurker")
        check(lk is not None and lk[1][0] == 200, f"dismiss a newcomer: 200 ({lk and lk[1]})")
        check(lk is not None and not any(m["handle"] == lk[0] for m in lk[2]),
              "the dismissed newcomer is off the panel at once")
        check(lk is not None and lk[3][0] == 409, f"a second dismiss is 409 ({lk and lk[3]})")

        # Mentions.
        ask = next((m for t, m in seen_asks.items() if "slides" in t), None)
        check(ask is not None and ask["kind"] == "question", f"a question to the host shows ({ask})")
        check(ask is not None and ask["id"] in gone, "a facilitator's reply clears it")
        thx = dismissed.get("thx")
        check(thx is not None and seen_asks.get("thanks @uklibchat for hosting #uklibchat", {})
              .get("kind") == "mention", "a mention of the host shows as a mention")
        check(thx is not None and thx[1][0] == 200 and not any(m["id"] == thx[0] for m in thx[2]),
              f"dismiss a mention: 200, off the panel at once ({thx and thx[1]})")
        bad = dismissed.get("bad")
        check(bad is not None and bad[0][0] == 400 and bad[1][0] == 400 and bad[2][0] == 409,
              f"a dismiss naming nothing, or both, is 400; an unknown post 409 ({bad})")
        check(not any("uklibchatfan" in t for t in seen_asks),
              "a longer name and an e-mail address are not mentions")
        check(not any(re.search(r"\b[aA]\d", t) for t in seen_asks),
              f"answers that mention the host are not waiting ({[t for t in seen_asks][:8]})")

        # Capture health.
        check(len(sources_seen) == 2, f"one capture line per source ({sorted(sources_seen)})")
        for name, src in sorted(sources_seen.items()):
            rl = src.get("rate_limit") or {}
            check(src.get("last_ok_ms", 0) > 0 and src["requests"] > 0 and
                  isinstance(src["streaming"], bool) and src["errors"] == 0 and
                  src["last_error"] == "", f"{name}: last good read, requests, no errors")
            check(rl.get("limit", 0) > 0 and 0 <= rl.get("remaining", -1) <= rl["limit"] and
                  rl.get("reset_ms", 0) > 0, f"{name}: its request budget ({rl})")

        # The stream: the whole state once, then what changed.
        ev = stream.events if stream else []
        kinds = [k for k, _ in ev]
        check(kinds[:1] == ["state"] and kinds.count("patch") > 10,
              f"one whole state, then patches ({kinds.count('state')} states, "
              f"{kinds.count('patch')} patches)")
        merged = {}
        for k, doc in ev:
            if k == "state":
                merged = dict(doc)
            else:
                for key, v in doc.items():
                    if v is None:
                        merged.pop(key, None)
                    else:
                        merged[key] = v
        check(all("title" not in d for k, d in ev if k == "patch"),
              "a patch leaves out what did not change (the title)")
        check(any("newcomers" in d for k, d in ev if k == "patch") and merged.get("phase") in
              ("grace", "after"), "patches carry the panels and bring the page to the end")

        # The dismissals are controls: journaled and kept for a restart.
        events = [json.loads(l)["object"] for l in open(os.path.join(out, "journal.jsonl"))
                  if '"source":"console"' in l]
        check([e["action"] for e in events] == ["dismiss", "dismiss"],
              f"the dismissals are events in the journal ({events})")
        st = json.load(open(os.path.join(out, "state.json")))["console"]["dismissed"]
        check(lk is not None and st.get("people") == [lk[0].lower()] and thx is not None and
              st.get("posts") == [thx[0]], f"state.json keeps them ({st})")
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
