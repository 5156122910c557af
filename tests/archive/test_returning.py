"""Stable figures (issue 14, rule 7): summary.json's "returning_participants"
does not depend on the order in which the sessions of an archive folder were
imported or rebuilt. Three weekly sessions are imported in two orders into two
folders; every session's figures must agree, and equal what the messages say
(people who wrote in an earlier session). An earlier session whose
messages.jsonl is gone is built again when a later one is.
usage: test_returning.py CHATKEEPER SOURCE_ROOT"""
import fcntl
import html
import json
import os
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
FAILS = []

# week -> the people who write in it (the host asks; spam bots ride along in week 1)
WEEKS = {
    "2026-12-03": ["alice", "bob", "spambot1", "spambot2"],
    "2026-12-10": ["alice", "carol", "dave"],
    "2026-12-17": ["alice", "bob", "carol", "erin", "spambot1", "spambot2"],
}
SPAM = "Vote now #KCA #VoteJKT48ID #testchat"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def status(sid, day, minute, acct, text):
    return {
        "id": sid, "created_at": f"{day}T01:{minute:02d}:00.000Z",
        "url": f"https://example.social/@{acct}/{sid}", "uri": f"https://example.social/s/{sid}",
        "content": f"<p>{html.escape(text)}</p>", "in_reply_to_id": None, "reblog": None,
        "media_attachments": [], "edited_at": None,
        "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
        "account": {"id": "acc-" + acct, "acct": acct, "username": acct,
                    "display_name": acct.title(), "url": f"https://example.social/@{acct}"},
    }


def write_inputs(tmp):
    """session.json and statuses.json per week (chat at 20:00 New York, 01:00 UTC next day)."""
    inputs = {}
    for w, (day, people) in enumerate(sorted(WEEKS.items())):
        utc_day = f"{day[:8]}{int(day[8:]) + 1:02d}"
        sess = os.path.join(tmp, f"week{w}.json")
        with open(sess, "w", encoding="utf-8") as f:
            json.dump({"title": f"Week {w}", "hashtag": "testchat",
                       "timezone": "America/New_York", "start": f"{day}T20:00",
                       "duration": "1h", "facilitators": ["@host@example.social"],
                       "questions": [{"at": "5m", "text": "What brought you here?"}]}, f)
        posts = [status(f"{w}000", utc_day, 5, "host", "Q1 What brought you here? #testchat")]
        for i, p in enumerate(people):
            text = SPAM if p.startswith("spambot") else f"A1 {p} is here #testchat"
            posts.append(status(f"{w}{i + 1:03d}", utc_day, 10 + i, p, text))
        data = os.path.join(tmp, f"week{w}-statuses.json")
        with open(data, "w", encoding="utf-8") as f:
            json.dump(posts, f)
        inputs[w] = (sess, data)
    return inputs


def expected(weeks=WEEKS):
    """Returning = wrote (not spam) in an earlier week; the host is in every week."""
    out, seen = {}, set()
    for w, (day, people) in enumerate(sorted(weeks.items())):
        real = {p for p in people if not p.startswith("spambot")} | {"host"}
        out[w] = len(real & seen)
        seen |= real
    return out


def figures(folder):
    got = {}
    for w in range(len(WEEKS)):
        with open(os.path.join(folder, f"w{w}", "summary.json"), encoding="utf-8") as f:
            got[w] = json.load(f)["overall"]["returning_participants"]
    return got


def import_in(folder, inputs, order):
    os.makedirs(folder, exist_ok=True)
    for w in order:
        sess, data = inputs[w]
        rc, so, se = run("import", "--platform", "mastodon", data, "--session", sess,
                         "--out", os.path.join(folder, f"w{w}"))
        check(rc == 0, f"import week {w} into {os.path.basename(folder)} (rc {rc}: {se[-300:]})")


def outputs(folder):
    """Each week's rendered files as (inode, mtime): written again, they change
    (outputs are replaced whole, by rename)."""
    got = {}
    for w in range(len(WEEKS)):
        for name in ("summary.json", "transcript.html", "writeup.md"):
            st = os.stat(os.path.join(folder, f"w{w}", name))
            got[(w, name)] = (st.st_ino, st.st_mtime_ns)
    return got


def rendered_again(before, after):
    return sorted({w for (w, _), v in after.items() if before[(w, _)] != v})


def rebuild_renders_what_changed(a, b):
    """Rebuilding an old session renders again only the later sessions whose
    figure may have changed, and the figures stay what the messages say in
    whatever order sessions are rebuilt."""
    before = outputs(a)
    rc, so, se = run("archive", os.path.join(a, "w0"))
    check(rc == 0, f"archive week 0 again (rc {rc}: {se[-200:]})")
    check(rendered_again(before, outputs(a)) == [0],
          f"week 0 rebuilt with nothing new: no later week rendered again "
          f"({rendered_again(before, outputs(a))})")
    # bob opts out in week 0: week 2 (where bob writes) changes, week 1 does not
    weeks = {d: list(p) for d, p in WEEKS.items()}
    weeks["2026-12-03"].remove("bob")
    want = expected(weeks)
    for folder in (a, b):
        with open(os.path.join(folder, "w0", "overrides.json"), "w", encoding="utf-8") as f:
            json.dump({"opt_out": ["@bob"]}, f)
    before = outputs(a)
    rc, so, se = run("archive", os.path.join(a, "w0"))
    check(rc == 0, f"archive week 0 after an opt-out (rc {rc}: {se[-200:]})")
    check(rendered_again(before, outputs(a)) == [0, 2],
          f"only the week bob writes in is rendered again ({rendered_again(before, outputs(a))})")
    check(figures(a) == want, f"figures after the opt-out {figures(a)}, the messages say {want}")
    # the same change in the other folder, reached in another order
    for w in (2, 0, 1):
        rc, so, se = run("archive", os.path.join(b, f"w{w}"))
        check(rc == 0, f"archive {b} week {w} (rc {rc}: {se[-200:]})")
    check(figures(b) == want, f"the other folder agrees: {figures(b)}, {want}")
    # week 1 is moved a fortnight on (its posts now fall outside its window):
    # week 2 no longer has week 1's people before it
    path = os.path.join(a, "w1", "session.json")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    doc["start"] = "2026-12-24T20:00"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    rc, so, se = run("archive", os.path.join(a, "w1"))
    check(rc == 0, f"archive week 1 moved (rc {rc}: {se[-200:]})")
    moved = {d: p for d, p in weeks.items() if d != "2026-12-10"}
    want_moved = {0: expected(moved)[0], 1: 0, 2: expected(moved)[1]}
    check(figures(a) == want_moved,
          f"a week moved in time: figures {figures(a)}, the messages say {want_moved}")


def main():
    with tempfile.TemporaryDirectory(prefix="ck-returning-") as tmp:
        inputs = write_inputs(tmp)
        want = expected()
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        import_in(a, inputs, [0, 1, 2])
        import_in(b, inputs, [2, 0, 1])
        fa, fb = figures(a), figures(b)
        check(fa == want, f"in date order: returning per week {fa}, the messages say {want}")
        check(fb == want, f"latest first: returning per week {fb}, the messages say {want}")
        # rebuilt out of order, with the earliest week's messages.jsonl gone
        os.unlink(os.path.join(b, "w0", "messages.jsonl"))
        rc, so, se = run("archive", os.path.join(b, "w1"))
        check(rc == 0, f"archive week 1 (rc {rc}: {se[-300:]})")
        check(os.path.exists(os.path.join(b, "w0", "messages.jsonl")),
              "the earlier week without messages.jsonl was built first")
        fb = figures(b)
        check(fb == want, f"after rebuilding: returning per week {fb}, the messages say {want}")
        # A session a runner holds (its .lock, as `run` or `serve` takes it) is
        # neither built first nor rendered again: it builds its own (serve runs
        # a hundred at once, and each build rebuilding the others cost minutes).
        os.unlink(os.path.join(b, "w0", "messages.jsonl"))
        summary2 = os.path.join(b, "w2", "summary.json")
        os.utime(summary2, (1, 1))
        locks = []
        for w in ("w0", "w2"):
            fd = os.open(os.path.join(b, w, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locks.append(fd)
        rc, so, se = run("archive", os.path.join(b, "w1"))
        check(rc == 0, f"archive week 1 beside running weeks (rc {rc}: {se[-300:]})")
        check(not os.path.exists(os.path.join(b, "w0", "messages.jsonl")),
              "an earlier session being run was built by a later one's build")
        check(os.stat(summary2).st_mtime == 1, "a later session being run was rendered again")
        for fd in locks:
            os.close(fd)
        rc, so, se = run("archive", os.path.join(b, "w1"))
        check(rc == 0 and os.path.exists(os.path.join(b, "w0", "messages.jsonl")),
              "once no runner holds it, the earlier week is built first again")
        # Another chat in the same folder (a shared /tmp, say): never built or
        # rendered by ours, and its people are not ours returning.
        other = os.path.join(a, "other")
        os.makedirs(other)
        sess, data = inputs[0]
        with open(sess, encoding="utf-8") as f:
            doc = json.load(f)
        doc["hashtag"], doc["start"] = "otherchat", "2026-11-26T20:00"
        with open(os.path.join(other, "session.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f)
        with open(os.path.join(other, "journal.jsonl"), "w", encoding="utf-8") as f:
            f.write("")
        late = os.path.join(b, "late")
        os.makedirs(late)
        doc["start"] = "2027-01-07T20:00"
        with open(os.path.join(late, "session.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f)
        with open(os.path.join(late, "messages.jsonl"), "w", encoding="utf-8") as f:
            f.write("")
        with open(os.path.join(late, "summary.json"), "w", encoding="utf-8") as f:
            f.write("{}")
        rc, so, se = run("archive", os.path.join(a, "w1"))
        rc2, so, se2 = run("archive", os.path.join(b, "w1"))
        check(rc == 0 and rc2 == 0, f"archive beside other chats ({rc}, {rc2}: {se[-200:]} {se2[-200:]})")
        check(sorted(os.listdir(other)) == ["journal.jsonl", "session.json"],
              f"an earlier session of another chat is not built: {sorted(os.listdir(other))}")
        with open(os.path.join(late, "summary.json"), encoding="utf-8") as f:
            check(f.read() == "{}", "a later session of another chat is not rendered again")
        check(figures(a) == want and figures(b) == want,
              f"other chats change no figure: {figures(a)}, {figures(b)}")
        with open(os.path.join(a, "w0", "messages.jsonl"), encoding="utf-8") as f:
            spam = [json.loads(x) for x in f if SPAM in x]
        check(len(spam) == 2 and all(m.get("spam") is True for m in spam),
              f"spam is kept in messages.jsonl with \"spam\": true ({len(spam)})")
        rebuild_renders_what_changed(a, b)
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


main()
