#!/usr/bin/env python3
"""A session is a series date, through the real binary: `check SERIES`
(every per-date file, the upcoming dates, each problem with its
file:line:column), `agenda SERIES --date`, `run SERIES --date --dry-run`
(the same as a hand-written session file with the merged fields), a per-date
file given alone, a cancelled date, a date without questions (skip and
observe).

usage: test_series_cli.py CHATKEEPER SRCDIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

CK = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
failures = []
Q = '"'  # a JSON string's opening quote, where positions point


def check(cond, what, detail=""):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
        if detail:
            print(detail)


def ck(*args, cwd):
    p = subprocess.run([CK, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "CHATKEEPER_TOKEN": "test-token"})
    return p.returncode, p.stdout, p.stderr


def pos(path, needle):
    """line:column (1-based) of the first occurrence of needle in path."""
    text = open(path, encoding="utf-8").read()
    i = text.index(needle)
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return f"{line}:{col}"


def write(path, doc_or_text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text, indent=2))


with tempfile.TemporaryDirectory() as tmp:
    shutil.copy(os.path.join(SRC, "config/series-uklibchat.json"), tmp)
    shutil.copytree(os.path.join(SRC, "config/uklibchat-sessions"),
                    os.path.join(tmp, "uklibchat-sessions"))
    series_path = os.path.join(tmp, "series-uklibchat.json")
    series = json.load(open(series_path))
    sessions = os.path.join(tmp, "uklibchat-sessions")
    zone = ZoneInfo(series["timezone"])

    # ---- check: valid series, upcoming dates computed here from the rule ----
    now = datetime(2027, 1, 8, 12, 0, tzinfo=timezone.utc)
    rc, out, err = ck("check", "series-uklibchat.json", "--now", "2027-01-08T12:00:00Z",
                      "--count", "4", cwd=tmp)
    check(rc == 0, "check on the shipped series exits 0", out + err)
    anchor = date.fromisoformat(series["anchor"])
    today = now.astimezone(zone).date()
    first = anchor + timedelta(days=14 * -(-(today - anchor).days // 14))
    dates = [first + timedelta(days=14 * k) for k in range(4)]
    lines = [l for l in out.splitlines() if l.startswith("  ")]
    check(len(lines) == 4, "check lists --count upcoming dates", out)
    for d, line in zip(dates, lines):
        check(f"{d.day} {d.strftime('%B')} {d.year}" in line, f"date {d} listed in order", line)
        f = os.path.join(sessions, d.isoformat() + ".json")
        if os.path.exists(f):
            title = json.load(open(f))["title"]
            n = len(json.load(open(f))["questions"])
            check(f'"{title}", {n} questions' in line, f"{d}: its title and questions", line)
        else:
            days = (d - today).days
            want = f"{d.day} {d.strftime('%B')}: no questions yet; the chat is in {days} days"
            check(want in line, f"{d}: no questions yet, in {days} days", line)
            check("will not run" in line, f"{d}: skip says it will not run", line)

    # ---- run --dry-run and agenda on a series date: exactly a hand-made session ----
    day = "2027-01-14"
    hand = {k: v for k, v in series.items()
            if k not in ("rule", "anchor", "time", "sessions", "without_questions")}
    hand.update(json.load(open(os.path.join(sessions, day + ".json"))))
    t = datetime.fromisoformat(day + "T" + series["time"]).replace(tzinfo=zone)
    hand["start"] = t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    write(os.path.join(tmp, "hand.json"), hand)
    rc, out_series, err = ck("run", "series-uklibchat.json", "--date", day, "--dry-run", cwd=tmp)
    check(rc == 0, "run SERIES --date --dry-run exits 0", err)
    rc, out_hand, err = ck("run", "hand.json", "--dry-run", cwd=tmp)
    check(rc == 0 and out_hand == out_series,
          "run --dry-run on the series date equals the hand-written session", out_series + out_hand)
    check("New year, new skills" in out_series and "Q5" in out_series, "the date's questions", out_series)
    rc, out, err = ck("agenda", "series-uklibchat.json", "--date", day, "--out", "a1", cwd=tmp)
    check(rc == 0, "agenda SERIES --date exits 0", err)
    rc, out, err = ck("agenda", "hand.json", "--out", "a2", cwd=tmp)
    for name in sorted(os.listdir(os.path.join(tmp, "a2"))):
        a = open(os.path.join(tmp, "a1", name), "rb").read()
        b = open(os.path.join(tmp, "a2", name), "rb").read()
        check(a == b, f"agenda {name} from the series equals the hand-written session's")

    # ---- the series date runs for real: a rehearsal in compressed time ----
    script = os.path.join(SRC, "config/sim/uklibchat.chat.json")
    p = subprocess.run([CK, "run", "series-uklibchat.json", "--date", day, "--rehearse", script,
                        "--speed", "600", "--no-status", "--out", "rehearsal"], cwd=tmp,
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "a rehearsal of the series date finishes", p.stderr[-2000:])
    out_dir = os.path.join(tmp, "rehearsal")
    if os.path.exists(os.path.join(out_dir, "session.json")):
        got = json.load(open(os.path.join(out_dir, "session.json")))
        check(got["title"] == hand["title"] and got["hashtag"] == series["hashtag"],
              "the session directory has the merged session", got.get("title"))
        check([q["text"] for q in got["questions"]] == [q["text"] for q in hand["questions"]],
              "the date's questions were the run sheet")
        posted = open(os.path.join(out_dir, "messages.jsonl"), encoding="utf-8").read()
        for q in hand["questions"]:
            check(q["text"] in posted, f"posted and captured: {q['text'][:30]}")

    # ---- a per-date file alone: the command to use instead ----
    rc, out, err = ck("run", "uklibchat-sessions/2027-01-14.json", "--dry-run", cwd=tmp)
    check(rc == 2 and "chatkeeper run series-uklibchat.json --date 2027-01-14" in err,
          "run on a per-date file names the series command", err)
    rc, out, err = ck("check", "uklibchat-sessions/2027-01-14.json", cwd=tmp)
    check(rc == 2 and "chatkeeper check series-uklibchat.json" in err,
          "check on a per-date file names the series", err)

    # ---- dates with nothing to run ----
    rc, out, err = ck("run", "series-uklibchat.json", "--date", "2027-01-28", cwd=tmp)
    check(rc == 0 and "nothing to run" in err and "skip" in err,
          "a date without questions under skip runs nothing, exit 0", err)
    write(os.path.join(sessions, "2027-02-11.json"), {"cancelled": True})
    rc, out, err = ck("run", "series-uklibchat.json", "--date", "2027-02-11", cwd=tmp)
    check(rc == 0 and "2027-02-11 is cancelled" in err, "a cancelled date runs nothing", err)
    rc, out, err = ck("next", "series-uklibchat.json", "--from", "2027-02-01", "--count", "1",
                      cwd=tmp)
    check(rc == 0 and "2027-02-11" in out and "cancelled" in out, "next shows a cancelled date",
          out + err)
    rc, out, err = ck("run", "series-uklibchat.json", "--date", "2027-01-21", cwd=tmp)
    check(rc == 2 and "not a date of" in err, "a date the rule does not give: exit 2", err)
    rc, out, err = ck("run", "series-uklibchat.json", "--dry-run", cwd=tmp)
    check(rc == 2 and "--date" in err, "run on a series without --date asks for one", err)
    rc, out, err = ck("check", "series-uklibchat.json", "--now", "2027-02-01T12:00:00Z", cwd=tmp)
    check(rc == 0 and "11 February 2027" in out and "cancelled" in out,
          "check lists the cancelled date", out + err)

    # ---- observe: a date without questions is followed, nothing posted ----
    obs = dict(series, without_questions="observe")
    write(os.path.join(tmp, "observe.json"), obs)
    rc, out, err = ck("run", "observe.json", "--date", "2027-01-28", "--dry-run", cwd=tmp)
    check(rc == 0 and "would only follow" in out, "observe: run follows without posting", out + err)

    # ---- every problem, each with its file:line:column ----
    write(os.path.join(sessions, "notes.json"), "{}")
    write(os.path.join(sessions, "2027-01-21.json"), {"title": "x"})
    write(os.path.join(sessions, "2027-03-11.json"), {"title": "A", "questions": []})
    write(os.path.join(sessions, "2027-03-11-again.json"), {"title": "B"})
    bad_at = os.path.join(sessions, "2027-03-25.json")
    write(bad_at, '{\n  "title": "Bad",\n  "questions": [\n    {"at": "5 minutes", "text": "q"}\n  ]\n}\n')
    bad_key = os.path.join(sessions, "2027-04-08.json")
    write(bad_key, '{\n  "title": "K",\n  "hashtag": "other",\n  "questions": [{"at": "5m", "text": "q"}]\n}\n')
    rc, out, err = ck("check", "series-uklibchat.json", "--now", "2027-01-08T12:00:00Z", cwd=tmp)
    check(rc == 2, "check exits 2 with bad per-date files", err)
    want = [
        "uklibchat-sessions/notes.json:1:1: not named after a date",
        "uklibchat-sessions/2027-01-21.json:1:1: 2027-01-21 is not a date of the series",
        "uklibchat-sessions/2027-03-11-again.json:1:1: two files for 2027-03-11",
        f"uklibchat-sessions/2027-03-25.json:{pos(bad_at, Q + '5 minutes')}: field 'questions[0].at'",
        f"uklibchat-sessions/2027-04-08.json:{pos(bad_key, Q + 'hashtag')}: field 'hashtag': not allowed in a per-date file",
        "5 problems",
    ]
    for w in want:
        check(w in err, "check reports: " + w, err)
    check("New year, new skills" in out, "check still prints the timetable", out)
    # 2027-01-14 loads, 2027-02-11 is cancelled; the rest have problems.
    check("(1 valid, 1 cancelled)" in out, "files with errors are not counted as valid", out)

    # ---- a time in the DST gap (Europe/London, last Sunday of March) ----
    sun = dict(series, rule="every sunday", sessions="sun")
    del sun["anchor"]
    write(os.path.join(tmp, "sunday.json"), sun)
    os.mkdir(os.path.join(tmp, "sun"))
    gap = os.path.join(tmp, "sun", "2027-03-28.json")
    write(gap, '{\n  "title": "G",\n  "time": "01:30",\n  "questions": [{"at": "5m", "text": "q"}]\n}\n')
    rc, out, err = ck("check", "sunday.json", "--now", "2027-03-20T12:00:00Z", cwd=tmp)
    check(rc == 2 and f"sun/2027-03-28.json:{pos(gap, Q + '01:30')}: field 'time': 01:30 does not "
          "exist on 2027-03-28 in Europe/London" in err, "a time in the DST gap", err)
    # The series' own time in the gap: moved forward by the gap, and check says so.
    late = dict(sun, time="01:30", sessions="none")
    write(os.path.join(tmp, "late.json"), late)
    rc, out, err = ck("check", "late.json", "--now", "2027-03-20T12:00:00Z", cwd=tmp)
    check(rc == 0 and f"late.json:{pos(os.path.join(tmp, 'late.json'), Q + '01:30')}: field "
          "'time': warning: 01:30 does not exist on 2027-03-28 in Europe/London" in err
          and "starts at 02:30" in err, "check warns of the series' time in a DST gap", err)
    check("28 March 2027, 02:30 BST" in out, "the timetable shows the moved time", out)
    rc, out, err = ck("check", "hand.json", "--count", "3", cwd=tmp)
    check(rc == 2 and "--count: only for a series file" in err, "--count on a session", err)
    # The series file's own errors keep their position too.
    write(os.path.join(tmp, "badrule.json"), dict(series, rule="every blue moon"))
    rc, out, err = ck("check", "badrule.json", cwd=tmp)
    check(rc == 2 and f"badrule.json:{pos(os.path.join(tmp, 'badrule.json'), Q + 'every blue moon')}: field 'rule'" in err,
          "a rule that cannot be read", err)

if failures:
    sys.exit(f"{len(failures)} failure(s)")
print("ok")
