#!/usr/bin/env python3
"""Run `chatkeeper agenda` on session files and parse the .ics back with a real
iCalendar parser (python3-icalendar, Debian): SUMMARY and DESCRIPTION must
round-trip exactly, DTSTART must resolve to the right UTC instant (also through
the VTIMEZONE we generate), the UID and the bytes must be stable across runs.

usage: test_ics_parse.py CHATKEEPER SESSION.json...
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

try:
    import icalendar
except ImportError:
    # meson may pick a python3 (pyenv, venv) that does not see Debian's
    # dist-packages; the system interpreter does.
    if os.path.exists("/usr/bin/python3") and not os.environ.get("CK_ICS_REEXEC"):
        os.environ["CK_ICS_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("FAIL: python3-icalendar is not installed (see scripts/deps.sh)")
from zoneinfo import ZoneInfo

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def duration(s):
    total = 0
    for n, unit in re.findall(r"(\d+)(ms|d|h|m|s)", s):
        total += int(n) * {"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return timedelta(seconds=total)


def expected_start(doc):
    tz = ZoneInfo(doc["timezone"])
    t = datetime.fromisoformat(doc["start"].replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz, fold=0)  # a repeated time: the first occurrence
    return t.astimezone(timezone.utc)


def strict_text(raw_ics, name):
    """The value of property `name`, unfolded and TEXT-unescaped in one
    left-to-right pass as RFC 5545 says. icalendar 4 (Debian 12) unescapes
    with chained str.replace, which turns an escaped backslash followed by
    'n' into a newline; this decoder does not, so both are checked."""
    text = raw_ics.decode("utf-8").replace("\r\n ", "")
    m = re.search(r"^" + name + r"(;[^:]*)?:(.*)$", text, re.M)
    if m is None:
        return None
    out, it = [], iter(m.group(2).rstrip("\r"))
    for c in it:
        if c == "\\":
            n = next(it, "")
            out.append("\n" if n and n in "nN" else n)
        elif c in ",;":
            return None  # must have been escaped; a lenient parser would not say
        else:
            out.append(c)
    return "".join(out)


def run_agenda(chatkeeper, session, out):
    subprocess.run([chatkeeper, "agenda", session, "--out", out], check=True,
                   stdout=subprocess.DEVNULL)
    files = glob.glob(os.path.join(out, "*.ics"))
    check(len(files) == 1, f"{session}: one .ics written, got {files}")
    with open(files[0], "rb") as f:
        return os.path.basename(files[0]), f.read()


def check_session(chatkeeper, session):
    with open(session, encoding="utf-8") as f:
        doc = json.load(f)
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        name1, ics1 = run_agenda(chatkeeper, session, d1)
        name2, ics2 = run_agenda(chatkeeper, session, d2)
        check(os.path.exists(os.path.join(d1, "agenda.md")), f"{session}: agenda.md written")
    check(name1 == name2 and ics1 == ics2, f"{session}: same bytes on two runs")

    # Octet-level rules the parser would forgive.
    check(ics1.endswith(b"\r\n") and b"\n" not in ics1.replace(b"\r\n", b""),
          f"{session}: CRLF line endings only")
    for line in ics1.split(b"\r\n"):
        check(len(line) <= 75, f"{session}: line of {len(line)} octets: {line[:40]!r}")
        line.decode("utf-8")  # each physical line is whole UTF-8: raises if split

    cal = icalendar.Calendar.from_ical(ics1)
    check(str(cal["VERSION"]) == "2.0", f"{session}: VERSION")
    check(str(cal["CALSCALE"]) == "GREGORIAN", f"{session}: CALSCALE")
    check("PRODID" in cal, f"{session}: PRODID")
    events = cal.walk("VEVENT")
    check(len(events) == 1, f"{session}: one VEVENT")
    ev = events[0]

    check(str(ev["SUMMARY"]) == doc["title"],
          f"{session}: SUMMARY round-trip: {str(ev['SUMMARY'])!r} != {doc['title']!r}")

    check(strict_text(ics1, "SUMMARY") == doc["title"], f"{session}: SUMMARY (strict decoder)")
    check(strict_text(ics1, "DESCRIPTION") == str(ev["DESCRIPTION"]),
          f"{session}: DESCRIPTION, icalendar and the strict decoder agree")

    start = expected_start(doc)
    tz = ZoneInfo(doc["timezone"])
    desc = str(ev["DESCRIPTION"])
    if "description" in doc:
        want = doc["description"].replace("\r\n", "\n")
        check(desc.startswith(want + "\n\n"), f"{session}: DESCRIPTION starts with the description")
    for i, q in enumerate(doc["questions"], 1):
        at = (start + duration(q["at"])).astimezone(tz)
        line = f"Q{i} {at.strftime('%H:%M %Z')}: {q['text']}\n"
        check(line in desc, f"{session}: DESCRIPTION has {line!r}")
    tag = doc["hashtag"].lstrip("#")
    check(f"follow #{tag}" in desc and "A1, A2" in desc, f"{session}: how to join")

    dtstart = ev.decoded("DTSTART")
    check(dtstart.tzinfo is not None, f"{session}: DTSTART is not floating")
    check(dtstart.astimezone(timezone.utc) == start,
          f"{session}: DTSTART {dtstart.astimezone(timezone.utc)} != {start}")
    dtend = ev.decoded("DTEND")
    check(dtend.astimezone(timezone.utc) == start + duration(doc["duration"]),
          f"{session}: DTEND")
    check(ev["DTSTART"].params.get("TZID") == doc["timezone"], f"{session}: DTSTART has TZID")

    # Our VTIMEZONE, interpreted by the parser, must agree with tzdata at the
    # event (not only the zone name the parser may look up by itself).
    vtz = [c for c in cal.walk("VTIMEZONE") if str(c["TZID"]) == doc["timezone"]]
    check(len(vtz) == 1, f"{session}: a VTIMEZONE for the TZID")
    if vtz:
        ptz = vtz[0].to_tz()
        local = start.astimezone(tz).replace(tzinfo=None)
        got = ptz.localize(local) if hasattr(ptz, "localize") else local.replace(tzinfo=ptz)
        check(got.astimezone(timezone.utc) == start,
              f"{session}: through our VTIMEZONE, {got.astimezone(timezone.utc)} != {start}")

    uid = str(ev["UID"])
    check(re.fullmatch(r"[0-9a-f]{16}@chatkeeper", uid) is not None, f"{session}: UID {uid}")
    ev2 = icalendar.Calendar.from_ical(ics2).walk("VEVENT")[0]
    check(str(ev2["UID"]) == uid, f"{session}: UID stable across runs")
    check(ev.decoded("DTSTAMP") == start, f"{session}: DTSTAMP is the start (deterministic)")
    print(f"ok: {session}: {name1} UID {uid}")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    for session in sys.argv[2:]:
        check_session(sys.argv[1], session)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()
