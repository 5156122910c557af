#!/usr/bin/env python3
"""Benchmark `chatkeeper archive` against jansson alone (issue 4, bench/).

Generates a realistic Mastodon journal of N statuses (the Status shape of
/api/v1/timelines/tag, ~2 KB each: HTML content with mentions, hashtags and
links, replies, boosts, edits, overlap duplicates and a few statuses from an
earlier week that a catch-up page brings in), with a session.json whose window
covers the chat. Then it times `chatkeeper archive DIR` and `jansson_floor`
(parse each line with jansson, nothing else) on the same journal and prints the
figures, for N statuses and for a typical 2,000-status chat. The archive
builds each line's JSON tree in a reused block (src/store/jarena.c), so the
floor is timed twice: as jansson runs by default (malloc), and with the same
block (`jansson_floor --arena`), which is the floor for the archive's own work.

Python 3 standard library only, no network. Generated files go to a temporary
folder (or --dir) and are deleted afterwards unless --keep is given.

    python3 bench/archive.py [--n 1000000] [--reps 1] [--binary build/chatkeeper]
                             [--floor build/bench/jansson_floor] [--dir DIR] [--keep]
"""
import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The chat: local time in Europe/London (UTC in December), as session files say it.
START = dt.datetime(2026, 12, 3, 20, 0, tzinfo=dt.timezone.utc)
LEAD_S, GRACE_S = 15 * 60, 30 * 60

WORDS = (
    "library libraries librarian catalogue metadata archive archives reading list students "
    "research data open access repository community network networks colleagues CPD "
    "conference mentoring Mastodon fediverse newsletter blog podcast workshop training "
    "budget funding outreach users public academic school special collections digitisation "
    "preservation copyright licensing discovery systems cataloguing RDA MARC linked "
    "accessibility inclusion wellbeing burnout volunteers events storytime makerspace "
    "really think great point agree yes definitely useful helped loads honestly tricky "
    "café naïve Siobhán Gwenllian Llewelyn Zoë Łódź São Paulo Straße 図書館 🙂 📚 ✨ 👍"
).split()
DOMAINS = ["glammr.us", "mastodon.social", "mastodon.cymru", "mastodon.ie", "hcommons.social",
           "scholar.social", "libraryland.social", "fosstodon.org", "mas.to", "aus.social"]
FIRST = ["Jen", "Priya", "Gwen", "Siobhán", "Tom", "Aisha", "Marek", "Zoë", "Sam", "Chidi",
         "Ewan", "Hannah", "Kofi", "Lucía", "Ravi", "Ingrid", "Dafydd", "Niamh", "Oliver", "Mei"]
LAST = ["Shah", "Llewelyn", "Ní Bhriain", "Okafor", "Kowalski", "Evans", "Murphy", "García",
        "Patel", "Larsen", "Jones", "Nakamura", "Mensah", "Fraser", "O'Neill", "Hughes"]
LIB = "Mastodon.py test suite"


def iso(t):
    """RFC 3339 with milliseconds and Z, as Mastodon writes created_at."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def dumps(obj):
    # journal.c writes objects with jansson's JSON_COMPACT: no spaces, raw UTF-8.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def make_account(rng, i):
    domain = rng.choice(DOMAINS)
    user = "%s_%s%d" % (rng.choice(FIRST).lower().replace("ö", "o"), rng.choice("abcdefgh"), i)
    user = "".join(ch for ch in user if ch.isascii() and (ch.isalnum() or ch == "_"))
    local = domain == "glammr.us"
    acc_id = str(109000000000000000 + i * 7919)
    base = "https://%s" % domain
    name = "%s %s" % (rng.choice(FIRST), rng.choice(LAST))
    if rng.random() < 0.02:
        name = '<img src=x onerror=alert(1)> ' + name  # hostile names are part of real data
    note = "<p>%s</p>" % " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 10)))
    acc = {
        "id": acc_id, "username": user, "acct": user if local else "%s@%s" % (user, domain),
        "display_name": name, "locked": False, "bot": rng.random() < 0.01, "discoverable": True,
        "indexable": True, "group": False, "created_at": "2022-11-%02dT00:00:00.000Z" % rng.randint(1, 28),
        "note": note, "url": "%s/@%s" % (base, user), "uri": "%s/users/%s" % (base, user),
        "avatar": "https://files.%s/accounts/avatars/%s/original/%016x.png" % (domain, acc_id, rng.getrandbits(64)),
        "avatar_description": "",
        "header": "https://files.%s/accounts/headers/%s/original/%016x.jpg" % (domain, acc_id, rng.getrandbits(64)),
        "header_description": "",
        "avatar_static": None, "header_static": None,
        "followers_count": rng.randint(0, 5000), "following_count": rng.randint(0, 2000),
        "statuses_count": rng.randint(1, 40000), "last_status_at": "2026-12-03",
        "hide_collections": None, "noindex": False, "emojis": [], "roles": [],
        "fields": [{"name": "Pronouns", "value": rng.choice(["she/her", "he/him", "they/them"]),
                    "verified_at": None}] + [
                   {"name": "Blog", "value": '<a href="https://blog.example.org/%s" target="_blank" '
                    'rel="nofollow noopener me" translate="no"><span class="invisible">https://'
                    '</span><span class="">blog.example.org/%s</span><span class="invisible">'
                    '</span></a>' % (user, user), "verified_at": None}] * (rng.random() < 0.1),
    }
    acc["avatar_static"], acc["header_static"] = acc["avatar"], acc["header"]
    return {"json": dumps(acc), "id": acc_id, "acct": acc["acct"], "user": user,
            "url": acc["url"], "base": base}


def make_content(rng, accounts, hashtag, reply_to_acc):
    parts = []
    mentions = []
    if reply_to_acc is not None:
        mentions.append(reply_to_acc)
    if rng.random() < 0.15:
        mentions.append(rng.choice(accounts))
    lead = "".join('<span class="h-card" translate="no"><a href="%s" class="u-url mention">@<span>'
                   '%s</span></a></span> ' % (a["url"], a["user"]) for a in mentions)
    q = rng.randint(1, 6)
    prefix = rng.choice(["A%d " % q, "A%d: " % q, "a%d. " % q, "", "", "", "Q%d A " % q])
    n_par = rng.choices([1, 2, 3], [8, 2, 1])[0]
    for p in range(n_par):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 16))]
        text = " ".join(words).replace(" really", " &amp; really").replace(" yes", " it&#39;s yes")
        if rng.random() < 0.2:
            text += "<br />" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        if rng.random() < 0.25:
            path = "/%s/%d-%s" % (rng.choice(["blog", "news", "guides", "2026/12"]), rng.randint(1, 9999),
                                  "-".join(rng.choice(WORDS[:40]) for _ in range(4)))
            text += (' <a href="https://example.org%s" target="_blank" rel="nofollow noopener" '
                     'translate="no"><span class="invisible">https://</span><span class="ellipsis">'
                     'example.org%s</span><span class="invisible">%s</span></a>'
                     % (path, path[:20], path[20:]))
        parts.append(text)
    tag = ('<a href="https://glammr.us/tags/%s" class="mention hashtag" rel="tag">#<span>%s</span></a>'
           % (hashtag, hashtag))
    parts[-1] += " " + tag
    parts[0] = lead + prefix + parts[0]
    html = "".join("<p>%s</p>" % p for p in parts)
    return html, mentions


def status_json(rng, sid, created, acc, content, mentions, hashtag, reply, edited=None, reblog=None,
                counts=(0, 0, 0)):
    base = acc["base"]
    obj = (
        '{"id":"%s","created_at":"%s","in_reply_to_id":%s,"in_reply_to_account_id":%s,'
        '"sensitive":false,"spoiler_text":"","visibility":"public","language":"en",'
        '"uri":"%s/users/%s/statuses/%s","url":"%s/@%s/%s","replies_count":%d,'
        '"reblogs_count":%d,"favourites_count":%d,"quotes_count":0,"edited_at":%s,'
        '"favourited":false,"reblogged":false,"muted":false,"bookmarked":false,"pinned":false,'
        '"content":%s,"filtered":[],"reblog":%s,"application":{"name":"%s","website":null},'
        '"account":%s,"media_attachments":%s,"mentions":%s,"tags":[{"name":"%s","url":'
        '"https://glammr.us/tags/%s"}],"emojis":[],"tagged_collections":[],"quote":null,'
        '"card":null,"poll":null,"quote_approval":{"automatic":["public"],"manual":[],'
        '"current_user":"automatic"}}'
    ) % (
        sid, iso(created),
        '"%s"' % reply[0] if reply else "null", '"%s"' % reply[1] if reply else "null",
        base, acc["user"], sid, base, acc["user"], sid, counts[0], counts[1], counts[2],
        '"%s"' % iso(edited) if edited else "null",
        dumps(content), reblog if reblog else "null", LIB, acc["json"],
        ('[{"id":"%d","type":"image","url":"https://files.example.org/m/%d.png","preview_url":'
         '"https://files.example.org/m/%d_small.png","remote_url":null,"description":"A shelf of '
         'books in a library","blurhash":"UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH"}]'
         % (int(sid) + 1, int(sid), int(sid))) if rng.random() < 0.05 else "[]",
        dumps([{"id": m["id"], "username": m["user"], "url": m["url"], "acct": m["acct"]}
               for m in mentions]),
        hashtag, hashtag,
    )
    return obj


def journal_line(fetched, source, obj):
    return '{"fetched_at":"%s","platform":"mastodon","source":"%s","object":%s}\n' % (
        iso(fetched), source, obj)


def generate(dirpath, n, seed=1):
    """Write session.json and journal.jsonl for n statuses; returns a dict of facts."""
    rng = random.Random(seed)
    hashtag = "uklibchat"
    # The chat lasts long enough for n statuses at up to ~140 a second (a firehose
    # for 1M); the typical chat is 90 minutes.
    duration_s = max(90 * 60, n // 140)
    window_start = START - dt.timedelta(seconds=LEAD_S)
    window_s = LEAD_S + duration_s + GRACE_S
    session = {
        "title": "Benchmark chat", "hashtag": hashtag, "timezone": "Europe/London",
        "start": "2026-12-03T20:00", "duration": "%ds" % duration_s, "lead": "15m",
        "grace": "30m", "platform": {"type": "mastodon", "base_url": "https://glammr.us"},
        "facilitators": ["@uklibchat@glammr.us"], "post": False,
        "welcome": {"at": "0m", "text": "Welcome!"},
        "questions": [{"at": "%dm" % (5 + 12 * i), "text": "Question %d?" % (i + 1)} for i in range(6)],
        "closing": {"at": "1h25m", "text": "Thanks everyone!"},
    }
    with open(os.path.join(dirpath, "session.json"), "w") as f:
        json.dump(session, f, indent=2)

    n_acc = max(60, min(20000, n // 100))
    accounts = [make_account(rng, i) for i in range(n_acc)]
    recent = []  # (id, account) of recent statuses, for replies and boosts
    lines = 0
    outside = 0
    pending = []  # the current page, written newest first as the API returns it
    page_no = 0
    last_page = []
    with open(os.path.join(dirpath, "journal.jsonl"), "w", buffering=1 << 20) as out:
        def flush_page(fetched):
            nonlocal lines, last_page, page_no
            page_no += 1
            batch = list(reversed(pending))
            # Overlap: re-read a few statuses behind the cursor, sometimes with new counts.
            if last_page and rng.random() < 0.3:
                batch += rng.sample(last_page, min(len(last_page), rng.randint(1, 5)))
            for obj in batch:
                out.write(journal_line(fetched, "timeline", obj))
            lines += len(batch)
            last_page = pending[:]
            pending.clear()

        # A catch-up page at the start brings statuses from last week's chat.
        n_old = max(3, n // 2000)
        for i in range(n_old):
            t = window_start - dt.timedelta(days=7, seconds=-rng.uniform(0, window_s))
            acc = rng.choice(accounts)
            sid = str((int(t.timestamp() * 1000) << 16) + i)
            html, mentions = make_content(rng, accounts, hashtag, None)
            out.write(journal_line(window_start, "timeline",
                                   status_json(rng, sid, t, acc, html, mentions, hashtag, None)))
            lines += 1
            outside += 1

        made = 0
        for i in range(n - (lines)):
            t = window_start + dt.timedelta(seconds=window_s * (i + rng.random()) / n)
            acc = rng.choice(accounts)
            sid = str((int(t.timestamp() * 1000) << 16) + (i & 0xFFFF))
            roll = rng.random()
            reply = None
            reblog = None
            reply_acc = None
            if recent and roll < 0.05:
                # A boost: the reblogged status nested whole, the outer one with empty content.
                rid, racc, robj = rng.choice(recent)
                reblog = robj
                html, mentions = "", []
            else:
                if recent and roll < 0.40:
                    rid, reply_acc, _ = rng.choice(recent)
                    reply = (rid, reply_acc["id"])
                html, mentions = make_content(rng, accounts, hashtag, reply_acc)
            counts = (rng.randint(0, 5), rng.randint(0, 10), rng.randint(0, 30))
            obj = status_json(rng, sid, t, acc, html, mentions, hashtag, reply, None, reblog, counts)
            pending.append(obj)
            if reblog is None:
                recent.append((sid, acc, obj))
                if len(recent) > 200:
                    recent.pop(0)
            made += 1
            if rng.random() < 0.01 and reblog is None:
                # Edited later: a newer version shows up in a later page.
                edited = t + dt.timedelta(seconds=rng.randint(30, 600))
                html2 = html.replace("</p>", " (edit: typo)</p>", 1)
                pending.append(status_json(rng, sid, t, acc, html2, mentions, hashtag, reply, edited,
                                           None, counts))
            if len(pending) >= 40:
                flush_page(t + dt.timedelta(seconds=2))
            if lines + len(pending) >= n:
                break
        if pending:
            flush_page(window_start + dt.timedelta(seconds=window_s))
    size = os.path.getsize(os.path.join(dirpath, "journal.jsonl"))
    return {"lines": lines, "outside": outside, "bytes": size, "accounts": n_acc}


TIME = "/usr/bin/time"


def run(cmd):
    """Run cmd; return (wall s, cpu s, peak RSS bytes, stdout, kernel cpu s).

    Peak RSS comes from /usr/bin/time when it is there: a child forked from this
    (big) Python process inherits its RSS high-water mark across exec, so
    wait4()'s ru_maxrss would report Python's size for small runs."""
    timed = os.access(TIME, os.X_OK)
    fd, tfile = tempfile.mkstemp(prefix="ck-bench-time-")
    os.close(fd)
    full = [TIME, "-q", "-f", "%e %U %S %M", "-o", tfile] + cmd if timed else cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.read()
    errout = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(errout.decode(errors="replace"))
        raise SystemExit("%s failed with status %d" % (cmd[0], code))
    cpu, rss, sys_s = ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024, ru.ru_stime
    if timed:
        with open(tfile) as f:
            fields = f.read().split()
        cpu, rss, sys_s = float(fields[1]) + float(fields[2]), int(fields[3]) * 1024, float(fields[2])
    os.unlink(tfile)
    return wall, cpu, rss, out.decode(errors="replace"), sys_s


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def bench(label, n, binary, floor, base_dir, keep, reps=None):
    d = tempfile.mkdtemp(prefix="ck-bench-archive-", dir=base_dir)
    try:
        t0 = time.perf_counter()
        facts = generate(d, n)
        gen_s = time.perf_counter() - t0
        journal = os.path.join(d, "journal.jsonl")
        warm(journal)
        # Best of a few runs for small journals (noise), one for big ones
        # unless --reps says more; the three take turns, so a slow spell of a
        # shared machine falls on all of them alike.
        if reps is None:
            reps = 5 if n <= 100000 else 1
        runs = {"fl": [], "fa": [], "ar": []}
        for _ in range(reps):
            runs["fl"].append(run([floor, journal]))
            runs["fa"].append(run([floor, "--arena", journal]))
            runs["ar"].append(run([binary, "archive", d]))
        fl, fa, ar = (min(runs[k], key=lambda r: r[0]) for k in ("fl", "fa", "ar"))
        out_size = os.path.getsize(os.path.join(d, "messages.jsonl"))
        with open(os.path.join(d, "messages.jsonl"), "rb") as f:
            n_msgs = sum(1 for _ in f)
        print("== %s ==" % label)
        print("  statuses in journal     %d lines (%d from an earlier week), %d accounts"
              % (facts["lines"], facts["outside"], facts["accounts"]))
        print("  journal size            %.1f MB (%.0f bytes/line), generated in %.0f s"
              % (facts["bytes"] / 1e6, facts["bytes"] / max(1, facts["lines"]), gen_s))
        print("  archive                 %.3f s wall, %.3f s CPU (%.3f s of it in the kernel)"
              % (ar[0], ar[1], ar[4]))
        print("  jansson floor           %.3f s wall, %.3f s CPU (%.3f s of it in the kernel)"
              % (fl[0], fl[1], fl[4]))
        print("  jansson floor, arena    %.3f s wall, %.3f s CPU (%.3f s of it in the kernel)"
              % (fa[0], fa[1], fa[4]))
        for name, f in (("floor", fl), ("arena floor", fa)):
            print("  %-23s %.2fx wall, %.2fx CPU, %.2fx user CPU"
                  % ("ratio to " + name, ar[0] / f[0], ar[1] / max(f[1], 1e-9),
                     (ar[1] - ar[4]) / max(f[1] - f[4], 1e-9)))
        print("  peak RSS                %.1f MB archive (floor %.1f MB)" % (ar[2] / 1e6, fl[2] / 1e6))
        print("  RSS per status          %.0f bytes" % (ar[2] / max(1, facts["lines"])))
        print("  messages.jsonl          %d messages, %.1f MB (%.0f bytes/message)"
              % (n_msgs, out_size / 1e6, out_size / max(1, n_msgs)))
        sizes = []
        for name in ("transcript.html", "transcript.md", "messages.csv", "summary.json",
                     "activity.svg", "writeup.md", "writeup.html"):
            path = os.path.join(d, name)
            if os.path.exists(path):
                size = os.path.getsize(path)
                sizes.append("%s %s" % (name, "%.1f MB" % (size / 1e6) if size >= 1e6
                                        else "%.1f KB" % (size / 1e3)))
        print("  other outputs           %s" % ", ".join(sizes))
        print("  archive says            %s" % ar[3].strip())
        if keep:
            print("  kept in %s" % d)
        sys.stdout.flush()
    finally:
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000000, help="statuses in the big journal")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "chatkeeper"))
    ap.add_argument("--floor", default=None,
                    help="jansson_floor executable (default: bench/jansson_floor next to the binary)")
    ap.add_argument("--dir", default=None, help="where to create the session folders (default: temp)")
    ap.add_argument("--keep", action="store_true", help="keep the generated folders")
    ap.add_argument("--reps", type=int, default=None,
                    help="runs of each program on the big journal, best kept (default 1; 5 up to 100,000)")
    a = ap.parse_args()
    floor = a.floor or os.path.join(os.path.dirname(os.path.abspath(a.binary)), "bench", "jansson_floor")
    for exe in (a.binary, floor):
        if not os.access(exe, os.X_OK):
            raise SystemExit("%s: not built (meson setup build && ninja -C build)" % exe)
    if a.dir:
        os.makedirs(a.dir, exist_ok=True)
    bench("typical chat, 2,000 statuses", 2000, a.binary, floor, a.dir, a.keep)
    if a.n != 2000:
        bench("%d statuses" % a.n, a.n, a.binary, floor, a.dir, a.keep, a.reps)


if __name__ == "__main__":
    main()
