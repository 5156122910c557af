"""End to end: `chatkeeper import` builds session directories from Mastodon and
twarc files written here, and `chatkeeper catchup` reads them back.

Fixtures are made up in this file (small, readable, with the hard cases named):
a Mastodon array spread over several lines, a one-status-per-line file with a
corrupt line, a twarc 1 file (API v1.1 tweets) with a corrupt line, and a twarc2
file (an API v2 response page, and a flattened tweet with its author).
usage: test_import.py CHATKEEPER SOURCE_ROOT"""
import html
import json
import os
import tempfile

from importkit import check, finish, read_jsonl, run

ESC_TEXT = "A2 \x1b[2J\x1b]0;pwned\x07 red \u202eevil\u202c \x9b31m done #testchat"


def lines_of(path):
    with open(path, encoding="utf-8") as f:
        return f.read().count("\n")


def session(path, facilitators, **extra):
    """20:00 New York on 3 December 2026 is 01:00 UTC on the 4th; no platform section."""
    doc = {
        "title": "Import test chat", "hashtag": "testchat", "timezone": "America/New_York",
        "start": "2026-12-03T20:00", "duration": "1h", "facilitators": facilitators,
        "questions": [{"at": "5m", "text": "What brought you here tonight?"},
                      {"at": "30m", "text": "What would you change about the way we share?"}],
        **extra,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)


# ---- Mastodon ----

def status(sid, minute, acct, text, reply_to=None, reblog=None):
    return {
        "id": sid, "created_at": f"2026-12-04T01:{minute:02d}:00.000Z",
        "url": f"https://example.social/@{acct}/{sid}", "uri": f"https://example.social/s/{sid}",
        "content": "" if reblog else f"<p>{html.escape(text)}</p>", "in_reply_to_id": reply_to,
        "reblog": reblog, "media_attachments": [], "edited_at": None,
        "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
        "account": {"id": "acc-" + acct, "acct": acct, "username": acct,
                    "display_name": acct.title(), "url": f"https://example.social/@{acct}"},
    }


def write_mastodon(tmp):
    q1 = status("1001", 5, "host", "Q1 What brought you here tonight? #testchat")
    a1 = status("1002", 7, "alice", "A1 the people, and the links they share #testchat")
    boost = status("1003", 8, "bob", "", reblog=a1)
    array_path = os.path.join(tmp, "statuses.json")
    with open(array_path, "w", encoding="utf-8") as f:
        json.dump([q1, a1, boost], f, indent=2)  # one value over many lines
    reply = status("1004", 9, "bob", "@alice agreed, the links are the best part #testchat",
                   reply_to="1002")
    no_account = status("1005", 10, "carol", "A1 lost my account")
    del no_account["account"]
    lines = [json.dumps(reply), '{"id": "1006", "created_at": ',  # line 2: corrupt
             json.dumps(a1),  # already in the array file
             json.dumps(no_account)]  # line 4: not a status we can read
    lines_path = os.path.join(tmp, "statuses.jsonl")
    with open(lines_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return array_path, lines_path


def test_mastodon(tmp):
    array_path, lines_path = write_mastodon(tmp)
    sess = os.path.join(tmp, "mastodon-session.json")
    session(sess, ["@host@example.social"])
    out = os.path.join(tmp, "m")
    rc, so, se = run("import", "--platform", "mastodon", array_path, lines_path,
                     "--session", sess, "--out", out)
    check(rc == 0, f"mastodon import exits 0 (rc {rc}: {se.strip()[-300:]})")
    check("statuses.jsonl:2:" in se, "the corrupt line is reported with its number")
    check("statuses.jsonl:4:" in se, "the status without an account is reported with its line")
    msgs = read_jsonl(os.path.join(out, "messages.jsonl"))
    ids = [m["id"] for m in msgs]
    check(ids == ["1001", "1002", "1003", "1004"], f"mastodon messages, oldest first: {ids}")
    by_id = {m["id"]: m for m in msgs}
    check(by_id["1002"]["author"]["handle"] == "@alice@example.social", "mastodon handle")
    check(by_id["1003"]["boost_of"] == "1002", "a reblog is a boost of its status")
    check(by_id["1004"]["reply_to"] == "1002", "a reply keeps its parent")
    journal = os.path.join(out, "journal.jsonl")
    entries = read_jsonl(journal)
    check(len(entries) == 4, f"4 objects journaled once each ({len(entries)})")
    check(all(e["source"] == "import" and e["platform"] == "mastodon" for e in entries),
          "journal lines say source import, platform mastodon")
    check(entries[0]["fetched_at"] == "2026-12-04T01:05:00.000Z",
          f"fetched_at is the status's created_at ({entries[0]['fetched_at']})")
    before = open(os.path.join(out, "messages.jsonl"), "rb").read()
    rc, so, se = run("import", "--platform", "mastodon", array_path, lines_path,
                     "--session", sess, "--out", out)
    check(rc == 0 and lines_of(journal) == 4, "importing again adds nothing to the journal")
    check(open(os.path.join(out, "messages.jsonl"), "rb").read() == before,
          "and gives the same messages.jsonl, byte for byte")
    check("0 added" in so, f"the summary says nothing was added: {so.strip()}")


# ---- twarc ----

def v1_tweet(sid, minute, screen, text, reply_to=None, retweet_of=None, urls=()):
    t = {"created_at": f"Fri Dec 04 01:{minute:02d}:00 +0000 2026", "id": int(sid) + 1,
         "id_str": sid, "full_text": text, "in_reply_to_status_id_str": reply_to,
         "entities": {"urls": [{"url": u, "expanded_url": e} for u, e in urls]},
         "user": {"id": 7, "id_str": "u" + screen, "screen_name": screen,
                  "name": screen.replace("_", " ").title()},
         "retweet_count": 0, "favorite_count": 0}
    if retweet_of:
        t["retweeted_status"] = {"id_str": retweet_of, "created_at": t["created_at"],
                                 "full_text": "x", "user": t["user"]}
    return t


def write_twarc(tmp):
    tw1 = [
        v1_tweet("2001", 5, "host_x", "Q1 What brought you here tonight? #testchat"),
        v1_tweet("2002", 6, "alice_x", "A1 the links &amp; people https://t.co/abc123 #testchat",
                 urls=[("https://t.co/abc123", "https://example.org/why")]),
        None,  # line 3: corrupt
        v1_tweet("2003", 7, "bob_x", "RT @alice_x: A1 the links", retweet_of="2002"),
        v1_tweet("2004", 8, "bob_x", ESC_TEXT, reply_to="2002"),
    ]
    p1 = os.path.join(tmp, "tw1.jsonl")
    with open(p1, "w", encoding="utf-8") as f:
        for t in tw1:
            f.write(json.dumps(t) + "\n" if t else '{"created_at": "Fri Dec 04 01:06:30 +0000\n')
    page = {
        "data": [
            {"id": "3001", "created_at": "2026-12-04T01:31:00.000Z", "author_id": "9",
             "text": "Q2 What would you change about the way we share? #testchat"},
            {"id": "3002", "created_at": "2026-12-04T01:33:00.000Z", "author_id": "10",
             "text": "A2 more threads, fewer hot takes #testchat",
             "referenced_tweets": [{"type": "replied_to", "id": "3001"}]},
        ],
        "includes": {"users": [{"id": "9", "username": "host_x", "name": "Host"},
                               {"id": "10", "username": "dana_x", "name": "Dana"}]},
        "meta": {"result_count": 2},
    }
    flat = {"id": "3003", "created_at": "2026-12-04T01:34:00.000Z", "author_id": "9",
            "text": "RT @dana_x: A2 more threads",
            # twarc2's flatten embeds the original (from includes.tweets).
            "referenced_tweets": [dict(page["data"][1], type="retweeted",
                                       author=page["includes"]["users"][1])],
            "author": {"id": "9", "username": "host_x", "name": "Host"}}
    p2 = os.path.join(tmp, "tw2.jsonl")
    with open(p2, "w", encoding="utf-8") as f:
        f.write(json.dumps(page) + "\n" + json.dumps(flat) + "\n")
    return p1, p2


def test_twarc(tmp):
    p1, p2 = write_twarc(tmp)
    sess = os.path.join(tmp, "x-session.json")
    session(sess, ["@host_x"])  # a Twitter handle: accepted for imports
    out = os.path.join(tmp, "x")
    rc, so, se = run("import", "--platform", "twarc", p1, p2, "--session", sess, "--out", out)
    check(rc == 0, f"twarc import exits 0 (rc {rc}: {se.strip()[-300:]})")
    check("tw1.jsonl:3:" in se, "the corrupt twarc line is reported with its number")
    msgs = read_jsonl(os.path.join(out, "messages.jsonl"))
    by_id = {m["id"]: m for m in msgs}
    check(sorted(by_id) == ["2001", "2002", "2003", "2004", "3001", "3002", "3003"],
          f"every tweet once, by id_str: {sorted(by_id)}")
    check(all(m["platform"] == "x" for m in msgs), "platform x")
    check(by_id["2002"]["author"]["handle"] == "@alice_x", "v1.1 handle is @screen_name")
    check(by_id["2002"]["text"] == "A1 the links & people https://example.org/why #testchat",
          f"entities decoded, t.co expanded: {by_id['2002']['text']!r}")
    check(by_id["2002"]["url"] == "https://x.com/alice_x/status/2002", "tweet URL")
    check(by_id["2003"]["boost_of"] == "2002", "a v1.1 retweet is a boost")
    check(by_id["2004"]["reply_to"] == "2002", "a v1.1 reply keeps its parent")
    check(by_id["3002"]["author"]["handle"] == "@dana_x", "a v2 page's author from includes")
    check(by_id["3002"]["reply_to"] == "3001", "a v2 reply keeps its parent")
    check(by_id["3003"]["boost_of"] == "3002", "a flattened v2 retweet is a boost")
    with open(os.path.join(out, "session.json"), encoding="utf-8") as f:
        check(json.load(f).get("imported") == "x", "session.json is marked imported from x")
    journal = os.path.join(out, "journal.jsonl")
    n = lines_of(journal)
    rc, so, se = run("import", "--platform", "twarc", p1, p2, "--session", sess, "--out", out)
    check(rc == 0 and lines_of(journal) == n == 7, f"re-import adds nothing ({n} lines)")
    rc, so, se = run("archive", out)
    check(rc == 0, f"archive rebuilds the imported directory ({se.strip()})")

    rc, so, se = run("catchup", out, "--no-pager", "--width", "60")
    check(rc == 0, f"catchup on the imported directory exits 0 ({se.strip()})")
    neutralised(so, "imported")
    check("done #testchat" in so and "red evil" in so.replace("  ", " "),
          "the hostile message is still shown, minus its controls")


def neutralised(out, where):
    bad = [c for c in out if (ord(c) < 32 and c != "\n") or 0x7f <= ord(c) <= 0x9f
           or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]
    check(not bad, f"{where}: no control or bidi characters reach the terminal ({bad[:5]})")
    long_lines = [line for line in out.split("\n") if len(line) > 60]
    check(not long_lines, f"{where}: every line fits 60 columns ({long_lines[:2]})")


# ---- catchup on a grouped directory ----

def record(mid, minute, handle, text, questions, reply_to=None, boost_of=None, name=None):
    return {"id": mid, "platform": "mastodon", "url": None,
            "created_at": f"2026-12-04T01:{minute:02d}:00.000Z",
            "author": {"id": handle, "handle": handle, "name": name or handle[1:].title(),
                       "url": None},
            "text": text, "reply_to": reply_to, "boost_of": boost_of, "edited_at": None,
            "counts": {"replies": 0, "boosts": 0, "likes": 0},
            "questions": questions, "assigned_by": "tag"}


def test_catchup(tmp):
    d = os.path.join(tmp, "grouped")
    os.mkdir(d)
    # As import writes it: without a platform section, marked "imported".
    session(os.path.join(d, "session.json"), ["@host@example.social"], imported="mastodon")
    long = ("A1 " + "wrapping words across the narrow terminal " * 8).strip()
    recs = [
        record("1", 2, "@host", "Welcome everyone!", []),
        record("2", 5, "@host", "Q1 What brought you here tonight?", [1]),
        record("3", 6, "@alice", long, [1]),
        record("4", 7, "@bob", "@alice first reply", [1], reply_to="3"),
        record("5", 8, "@carol", "@bob reply to the reply", [1], reply_to="4"),
        record("6", 9, "@dave", "boosted", [1], boost_of="3"),
        record("7", 31, "@host", "Q2 What would you change?", [2]),
        record("8", 33, "@erin", ESC_TEXT, [2], name="Erin \x1b[31mRed\x1b[0m"),
    ]
    with open(os.path.join(d, "messages.jsonl"), "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    rc, out, se = run("catchup", d, "--no-pager", "--width", "60")
    check(rc == 0, f"catchup exits 0 ({se.strip()})")
    lines = out.split("\n")
    q1 = lines.index("Q1. What brought you here tonight?") if \
        "Q1. What brought you here tonight?" in lines else -1
    q2 = next((i for i, line in enumerate(lines) if line.startswith("Q2. What would you")), -1)
    other = next((i for i, line in enumerate(lines) if line.startswith("Before and between the questions")), -1)
    check(0 <= q1 < q2 < other, f"headings Q1, Q2, then other messages, in order ({q1} {q2} {other})")
    check(lines[q1 + 1] == "=" * 60, "a heading is underlined to the width")

    def at(prefix):
        return next((i for i, line in enumerate(lines) if line.startswith(prefix)), -1)
    # 01:06 UTC is 20:06 in New York.
    alice, bob, carol = at("20:06 Alice @alice"), at("    20:07 Bob @bob"), at("        20:08 Carol")
    check(q1 < alice < bob < carol < q2,
          f"replies nest under their parent, 4 columns a level ({alice} {bob} {carol})")
    body = [line for line in lines[alice + 1:bob] if line.strip()]
    check(len(body) >= 4 and all(line.startswith("  ") for line in body),
          f"a long message wraps over several indented lines ({len(body)})")
    check("Dave @dave" not in out, "boosts are not messages of their own")
    check(at("  boosted by @dave") in range(alice + 1, bob),
          "a boost shows as \"boosted by\" under its post, as in the transcripts")
    check(at("20:02 Host @host") > other, "the welcome is among the other messages")
    neutralised(out, "grouped")
    check("Erin [31mRed[0m" in out, "a display name's ESC is dropped, its text kept")

    rc, out2, _ = run("catchup", d, "--no-pager", "--width", "60", "--question", "2")
    check(rc == 0 and "Q2. What would you" in out2 and "Q1." not in out2 and "Alice" not in out2,
          "--question 2 shows only question 2")
    rc, _, se = run("catchup", d, "--no-pager", "--question", "9")
    check(rc == 2 and "no question 9" in se, f"--question 9 is an error ({rc})")
    rc, out3, _ = run("catchup", d, "--no-pager", "--width", "20")
    check(rc == 0 and max(len(line) for line in out3.split("\n")) <= 20, "--width 20 holds too")


def main():
    with tempfile.TemporaryDirectory(prefix="ck-import-") as tmp:
        test_mastodon(tmp)
        test_twarc(tmp)
        test_catchup(tmp)
    finish()


main()
