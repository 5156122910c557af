"""One tag page captured from two Mastodon instances and imported together is
one chat, not two (issue 11): each post is one message, whichever instances saw
it (merged by its status uri, the same on every instance; its id is each
instance's own), with the counts of the instance that knows most, and each
person counted once (by "@user@domain", though each instance gives the account
its own id and writes its acct without the domain when the account is local).

The statuses are the real tag timeline answer in /work/shared/api-examples
(tests/fixtures/mastodon/tag-timeline.response.json), changed only in ids,
accounts, texts, counts and times.
usage: test_import_merge.py CHATKEEPER SOURCE_ROOT"""
import copy
import json
import os
import subprocess
import sys
import tempfile

from importkit import check, finish, read_jsonl

BIN, ROOT = sys.argv[1], sys.argv[2]
with open(os.path.join(ROOT, "tests/fixtures/mastodon/tag-timeline.response.json"),
          encoding="utf-8") as f:
    TEMPLATE = json.load(f)[0]

# Five posts by five people on three instances; each is seen from a.example
# and b.example. n: the post's number; home: where the author lives.
POSTS = [  # (n, user, home, minute, text, reply_to n, likes seen on a, likes seen on b)
    (1, "host", "a.example", 5, "Q1 What brought you here tonight? #testchat", None, 4, 2),
    (2, "alice", "a.example", 7, "A1 the people #testchat", 1, 1, 1),
    (3, "bob", "b.example", 8, "A1 the links they share #testchat", 1, 0, 6),
    (4, "carol", "c.example", 9, "A1 a quiet hour to think #testchat", 1, 3, 3),
    (5, "dan", "b.example", 10, "A1 same as Bob #testchat", 3, 2, 5),
    (6, "erin", "b.example", 11, "so true #testchat", 1, None, 0),  # seen only on b.example
]
BASE_ID = {"a.example": 110000000000000000, "b.example": 220000000000000000}


def status(n, user, home, minute, text, reply_to, likes, seen_on):
    """Post n as the instance seen_on serves it."""
    s = copy.deepcopy(TEMPLATE)
    local = home == seen_on
    sid = str(BASE_ID[seen_on] + n)
    s["id"] = sid
    s["created_at"] = f"2026-12-04T01:{minute:02d}:00.000Z"
    s["uri"] = f"https://{home}/users/{user}/statuses/{n}"
    s["url"] = f"https://{home}/@{user}/{n}"
    s["content"] = f"<p>{text}</p>"
    s["in_reply_to_id"] = str(BASE_ID[seen_on] + reply_to) if reply_to else None
    s["favourites_count"] = likes
    s["tags"] = [{"name": "testchat", "url": f"https://{seen_on}/tags/testchat"}]
    a = s["account"]
    a["id"] = str(BASE_ID[seen_on] + 1000 + n % 4)  # each instance numbers accounts its own way
    a["username"] = user
    a["acct"] = user if local else f"{user}@{home}"
    a["display_name"] = user.title()
    a["url"] = f"https://{home}/@{user}"
    a["uri"] = f"https://{home}/users/{user}"
    return s


def page(seen_on):
    col = 6 if seen_on == "a.example" else 7
    return [status(p[0], p[1], p[2], p[3], p[4], p[5], p[col], seen_on)
            for p in reversed(POSTS) if p[col] is not None]  # a tag timeline is newest first


def main():
    with tempfile.TemporaryDirectory(prefix="ck-merge-") as tmp:
        files = []
        for inst in ("a.example", "b.example"):
            path = os.path.join(tmp, f"{inst}.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(page(inst), f, indent=2)
            files.append(path)
        sess = os.path.join(tmp, "session.json")
        with open(sess, "w", encoding="utf-8") as f:
            json.dump({"title": "Merge test", "hashtag": "testchat",
                       "timezone": "America/New_York", "start": "2026-12-03T20:00",
                       "duration": "1h", "facilitators": ["@host@a.example"],
                       "questions": [{"at": "5m", "text": "What brought you here tonight?"}]},
                      f)
        out = os.path.join(tmp, "out")
        p = subprocess.run([BIN, "import", "--platform", "mastodon", *files, "--session", sess,
                            "--out", out], capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, f"import exits 0 (rc {p.returncode}: {p.stderr.strip()[-300:]})")
        check("6 messages (0 boosts) from 6 people" in p.stdout,
              f"the summary counts 6 messages from 6 people: {p.stdout.strip()}")
        msgs = read_jsonl(os.path.join(out, "messages.jsonl"))
        check(len(msgs) == 6, f"6 messages, not one per instance ({len(msgs)})")
        by_uri = {m.get("uri"): m for m in msgs}
        check(sorted(by_uri) == sorted(status(*p[:6], 0, "a.example")["uri"] for p in POSTS),
              "each message carries its status uri")
        for n, user, home, *_rest, la, lb in POSTS:
            m = by_uri.get(f"https://{home}/users/{user}/statuses/{n}", {})
            check(m.get("counts", {}).get("likes") == max(la or 0, lb),
                  f"post {n}: likes from the instance that knows most ({m.get('counts')})")
            check(m.get("author", {}).get("handle") == f"@{user}@{home}",
                  f"post {n}: the author is @{user}@{home}")
            check(m.get("url") == f"https://{home}/@{user}/{n}",
                  f"post {n}: the url is where it was posted ({m.get('url')})")
        # Replies keep their question whichever instance's copy was kept.
        answers = [m for m in msgs if m["text"].startswith("A1")]
        check(all(m.get("questions") == [1] for m in answers),
              f"every answer is under Q1: {[m.get('questions') for m in answers]}")
        # A reply names its parent by its own instance's id; merged, the
        # parent is one message under one id (an alias map resolves the other
        # instance's): every reply_to is its parent's id in messages.jsonl.
        ids = {m["id"] for m in msgs}
        for n, user, home, _minute, _text, parent, *_ in POSTS:
            if parent is None:
                continue
            m = by_uri.get(f"https://{home}/users/{user}/statuses/{n}", {})
            pp = POSTS[parent - 1]
            want = by_uri.get(f"https://{pp[2]}/users/{pp[1]}/statuses/{parent}", {}).get("id")
            check(m.get("reply_to") == want and want in ids,
                  f"post {n} replies to post {parent}'s message {want} ({m.get('reply_to')})")
        erin = by_uri.get("https://b.example/users/erin/statuses/6", {})
        check(erin.get("questions") == [1] and erin.get("assigned_by") == "reply",
              f"b.example's reply to a.example's copy of Q1 is under Q1 by its thread "
              f"({erin.get('questions')}, {erin.get('assigned_by')})")
        html = open(os.path.join(out, "transcript.html"), encoding="utf-8").read()
        q1 = html.find('<section id="q1"')
        end = html.find("<section", q1 + 1)
        check(0 <= q1 < html.find("so true") < (end if end >= 0 else len(html)) and
              "a post not in this archive" not in html,
              "the transcript shows it in Q1's section, no reply without its parent")
        # Importing the pages again (in the other order) changes nothing.
        before = open(os.path.join(out, "messages.jsonl"), "rb").read()
        p = subprocess.run([BIN, "import", "--platform", "mastodon", files[1], files[0],
                            "--session", sess, "--out", out],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0 and open(os.path.join(out, "messages.jsonl"), "rb").read()
              == before, "importing again gives the same messages.jsonl, byte for byte")
    finish()


main()
