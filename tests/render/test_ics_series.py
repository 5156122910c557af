#!/usr/bin/env python3
"""`chatkeeper agenda SERIES.json`: the calendar of a series, parsed back with
python3-icalendar and its recurrence expanded with python3-dateutil (both
Debian): the RRULE gives the rule's dates (computed here from the rule with
zoneinfo), cancelled dates are EXDATEs, each date with its own file is a
RECURRENCE-ID event with its title and (moved) time; nth-weekday rules are
BYDAY=1TU / -1FR; the same files give the same bytes; agenda.md lists the next
dates with their questions where known.

usage: test_ics_series.py CHATKEEPER SRCDIR
"""
import calendar
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone

try:
    import icalendar
    from dateutil.rrule import rrulestr
except ImportError:
    if os.path.exists("/usr/bin/python3") and not os.environ.get("CK_ICS_REEXEC"):
        os.environ["CK_ICS_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("FAIL: python3-icalendar / python3-dateutil are not installed")
from zoneinfo import ZoneInfo

CK = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
failures = []


def check(cond, what, detail=""):
    if not cond:
        failures.append(what)
        print("FAIL:", what, detail)


def agenda(series, out, frm, cwd):
    p = subprocess.run([CK, "agenda", series, "--from", frm, "--out", out], cwd=cwd,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"agenda {series} exits 0", p.stderr)
    ics = [f for f in os.listdir(os.path.join(cwd, out)) if f.endswith(".ics")]
    check(len(ics) == 1, f"{series}: one .ics", ics)
    raw = open(os.path.join(cwd, out, ics[0]), "rb").read()
    md = open(os.path.join(cwd, out, "agenda.md"), encoding="utf-8").read()
    return ics[0], raw, md


def parse(raw, what):
    check(raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), f"{what}: CRLF only")
    for line in raw.split(b"\r\n"):
        check(len(line) <= 75, f"{what}: line of {len(line)} octets")
        line.decode("utf-8")
    cal = icalendar.Calendar.from_ical(raw)
    events = cal.walk("VEVENT")
    master = [e for e in events if "RRULE" in e]
    overrides = [e for e in events if "RECURRENCE-ID" in e]
    check(len(master) == 1, f"{what}: one event with the RRULE")
    check(len(master) + len(overrides) == len(events), f"{what}: every other event overrides")
    check(len({str(e["UID"]) for e in events}) == 1, f"{what}: one UID for the whole series")
    return cal, master[0], overrides


def expand(master, n):
    """n instances, expanded in wall-clock time as RFC 5545 says (dateutil
    with icalendar's pytz zone would keep one UTC offset across DST)."""
    start = master.decoded("DTSTART")
    tzid = master["DTSTART"].params.get("TZID")
    check(tzid is not None, "DTSTART has a TZID")
    start = start.replace(tzinfo=None)
    rule = master["RRULE"].to_ical().decode()
    zi = ZoneInfo(tzid)
    return [d.replace(tzinfo=zi) for _, d in zip(range(n), rrulestr(rule, dtstart=start))]


def exdates(master):
    ex = master.get("EXDATE")
    if ex is None:
        return []
    ex = ex if isinstance(ex, list) else [ex]
    return [d.dt for e in ex for d in e.dts]


with tempfile.TemporaryDirectory() as tmp:
    shutil.copy(os.path.join(SRC, "config/series-uklibchat.json"), tmp)
    shutil.copytree(os.path.join(SRC, "config/uklibchat-sessions"),
                    os.path.join(tmp, "uklibchat-sessions"))
    sessions = os.path.join(tmp, "uklibchat-sessions")
    series = json.load(open(os.path.join(tmp, "series-uklibchat.json")))
    zone = ZoneInfo(series["timezone"])
    hh, mm = map(int, series["time"].split(":"))
    # A cancelled date, a moved date with a hostile title.
    json.dump({"cancelled": True}, open(os.path.join(sessions, "2027-02-11.json"), "w"))
    hostile = 'Moved; a, b "quoted"\nline two'
    json.dump({"title": hostile, "time": "18:15",
               "questions": [{"at": "5m", "text": "Q, with; punctuation"}]},
              open(os.path.join(sessions, "2027-02-25-moved.json"), "w"))

    frm = date(2027, 1, 1)
    name, raw, md = agenda("series-uklibchat.json", "out1", frm.isoformat(), tmp)
    _, raw2, md2 = agenda("series-uklibchat.json", "out2", frm.isoformat(), tmp)
    check(raw == raw2 and md == md2, "same series files, same bytes")
    check(name == "uklibchat-series.ics", "the file is <hashtag>-series.ics", name)
    cal, master, overrides = parse(raw, "uklibchat")

    # The rule's dates, from the anchor every 14 days, at 19:00 London.
    anchor = date.fromisoformat(series["anchor"])
    first = anchor + timedelta(days=14 * -(-(frm - anchor).days // 14))
    want = [datetime.combine(first + timedelta(days=14 * k), datetime.min.time())
            .replace(hour=hh, minute=mm, tzinfo=zone) for k in range(40)]
    got = expand(master, 40)
    check([g.astimezone(timezone.utc) for g in got] == [w.astimezone(timezone.utc) for w in want],
          "the RRULE gives the rule's dates (across daylight saving)", got[:3])
    rrule = master["RRULE"].to_ical().decode()
    check(rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", "every other thursday as an RRULE", rrule)
    check(str(master["SUMMARY"]) == series["title"], "the series event's title")

    # EXDATE: the cancelled date's instance.
    ex = [d.astimezone(timezone.utc) for d in exdates(master)]
    cancelled = datetime(2027, 2, 11, hh, mm, tzinfo=zone).astimezone(timezone.utc)
    check(ex == [cancelled], "EXDATE is the cancelled date", ex)

    # RECURRENCE-ID events: one per date with its own (not cancelled) file.
    files = {}
    for f in os.listdir(sessions):
        d = date.fromisoformat(f[:10])
        doc = json.load(open(os.path.join(sessions, f)))
        if d >= frm and not doc.get("cancelled"):
            files[d] = doc
    by_day = {e.decoded("RECURRENCE-ID").astimezone(zone).date(): e for e in overrides}
    check(set(by_day) == set(files), "a RECURRENCE-ID event per date with a file",
          (sorted(by_day), sorted(files)))
    instances = {g.astimezone(timezone.utc) for g in got}
    for d, doc in files.items():
        e = by_day.get(d)
        if e is None:
            continue
        rid = e.decoded("RECURRENCE-ID").astimezone(timezone.utc)
        check(rid in instances, f"{d}: RECURRENCE-ID is an instance of the RRULE")
        check(str(e["SUMMARY"]) == doc["title"], f"{d}: its own title", str(e["SUMMARY"]))
        t = doc.get("time", series["time"])
        start = datetime.combine(d, datetime.strptime(t, "%H:%M").time()).replace(tzinfo=zone)
        check(e.decoded("DTSTART").astimezone(timezone.utc) == start.astimezone(timezone.utc),
              f"{d}: DTSTART at its time ({t})")
        for q in doc["questions"]:
            check(q["text"] in str(e["DESCRIPTION"]), f"{d}: the question in DESCRIPTION")

    # agenda.md: the next dates, questions where known.
    check("### Thursday 14 January 2027, 19:00 GMT: New year, new skills" in md, "md: a date with its title", md)
    check("### Thursday 11 February 2027, 19:00 GMT: cancelled" in md, "md: cancelled")
    check("### Thursday 28 January 2027, 19:00 GMT\n\nQuestions to follow." in md, "md: no questions yet")
    check("18:15 GMT: Moved; a, b" in md and "\nline two" not in md, "md: moved, escaped")

    # nth-weekday rules.
    for rule, byday, nth, wd in [("first tuesday of the month", "1TU", 1, 1),
                                 ("last friday of the month", "-1FR", -1, 4)]:
        doc = dict(series, rule=rule, sessions="none")
        doc.pop("anchor")
        json.dump(doc, open(os.path.join(tmp, "nth.json"), "w"))
        shutil.rmtree(os.path.join(tmp, "out3"), ignore_errors=True)
        _, raw3, _ = agenda("nth.json", "out3", frm.isoformat(), tmp)
        _, m3, _ = parse(raw3, rule)
        r3 = m3["RRULE"].to_ical().decode()
        check(r3 == f"FREQ=MONTHLY;BYDAY={byday}", f"{rule}: RRULE", r3)
        want3 = []
        y, mo = frm.year, frm.month
        while len(want3) < 24:
            days = [d for d in calendar.Calendar().itermonthdates(y, mo)
                    if d.month == mo and d.weekday() == wd]
            d = days[nth - 1] if nth > 0 else days[-1]
            if d >= frm:
                want3.append(datetime.combine(d, datetime.min.time())
                             .replace(hour=hh, minute=mm, tzinfo=zone).astimezone(timezone.utc))
            y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
        got3 = [g.astimezone(timezone.utc) for g in expand(m3, 24)]
        check(got3 == want3, f"{rule}: the expansion is the rule's dates", (got3[:2], want3[:2]))

    # A broken per-date file: no calendar that silently lacks the date.
    open(os.path.join(sessions, "2027-03-11.json"), "w").write('{"title": "x",\n "questions": 3}')
    p = subprocess.run([CK, "agenda", "series-uklibchat.json", "--from", "2027-01-01", "--out",
                        "out4"], cwd=tmp, capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "uklibchat-sessions/2027-03-11.json:2:15: field 'questions'"
          in p.stderr, "a bad per-date file stops the calendar with its position", p.stderr)

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("ok")
