"""End to end: real twarc2 files (excerpts in tests/fixtures/x/twarc2, see its
README) imported by the real binary, as issue 13 asks: a folder of files,
retweets shown under their originals with the whole text (originals from
before the window kept), an edit chain as one message, withheld and
suspended authors kept as @unknown, quotes carrying their quoted post, ids
above 2^53 kept exactly, a page with errors and without meta.result_count,
and a stream capture with a torn last line.
usage: test_import_x.py CHATKEEPER SOURCE_ROOT"""
import json
import os
import shutil
import tempfile

from importkit import ROOT, check, finish, run

FIX = os.path.join(ROOT, "tests", "fixtures", "x", "twarc2")
ELLIPSIS = "\u2026"


def session(path, start, duration):
    doc = {"title": "twarc2 import", "hashtag": "testchat", "timezone": "UTC", "start": start,
           "duration": duration, "facilitators": ["@nobody"],
           "questions": [{"at": "1m", "text": "Q1 anything?"}]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)


def pages(name):
    """The fixture's pages (a torn line skipped), each data as a list."""
    out = []
    with open(os.path.join(FIX, name), encoding="utf-8") as f:
        for line in f:
            try:
                p = json.loads(line)
            except ValueError:
                continue
            p["data"] = p["data"] if isinstance(p["data"], list) else [p["data"]]
            out.append(p)
    return out


def messages(out):
    with open(os.path.join(out, "messages.jsonl"), encoding="utf-8") as f:
        return {m["id"]: m for m in map(json.loads, f)}


def retweets(name):
    """(retweet id, original) for the retweets whose original is in includes."""
    found = []
    for p in pages(name):
        inc = {t["id"]: t for t in p["includes"].get("tweets", [])}
        for t in p["data"]:
            for r in t.get("referenced_tweets", []):
                if r["type"] == "retweeted" and r["id"] in inc:
                    found.append((t["id"], inc[r["id"]]))
    return found


def test_folder(tmp):
    folder = os.path.join(tmp, "captures")
    os.mkdir(folder)
    for name in os.listdir(FIX):
        if name.endswith(".jsonl"):
            shutil.copy(os.path.join(FIX, name), folder)
    with open(os.path.join(folder, ".hidden.jsonl"), "w", encoding="utf-8") as f:
        f.write("not read\n")
    with open(os.path.join(folder, "README.md"), "w", encoding="utf-8") as f:
        f.write("# what these captures are\n")  # beside the captures, as in shared/data
    sess = os.path.join(tmp, "all.session.json")
    session(sess, "2021-03-01T00:00", "700d")  # every fixture's tweets are in the window
    out = os.path.join(tmp, "all")
    rc, so, se = run("import", "--platform", "twarc", folder + "/", "--session", sess, "--out", out)
    check(rc == 0, f"import DIR/ exits 0 ({rc}: {se.strip()[-400:]})")
    check(".hidden" not in se, "hidden files in the folder are not read")
    check("README.md: not read" in se, "a README beside the captures is passed over, said once")
    msgs = messages(out)

    # Every data tweet of every file is there (by its edit chain's first id),
    # ids kept as the exact strings, never numbers.
    for name in sorted(os.listdir(FIX)):
        if not name.endswith(".jsonl"):
            continue
        for p in pages(name):
            for t in p["data"]:
                mid = t.get("edit_history_tweet_ids", [t["id"]])[0]
                check(mid in msgs, f"{name}: tweet {t['id']} is a message")
    big = [i for i in msgs if int(i) > 2 ** 53]
    check(len(big) == len(msgs), f"every id is above 2^53 and kept exactly ({len(big)})")
    with open(os.path.join(out, "messages.jsonl"), encoding="utf-8") as f:
        raw = f.read()
    check(all(f'"id":"{i}"' in raw for i in big), "ids are strings in messages.jsonl")
    check(all(m["url"].startswith("https://x.com/") and
              m.get("uri") == "https://x.com/i/web/status/" + i for i, m in msgs.items()),
          "every message has an x.com url and uri https://x.com/i/web/status/ID")

    # The edit chain (edited.jsonl and edited_before.jsonl): one message, the latest version.
    check("1576994789110992896" not in msgs, "the later version is not a message of its own")
    chain = msgs.get("1576994746135764992", {})
    check(chain.get("edited_at") == "2022-10-03T17:57:11.000Z" and
          chain.get("text", "").startswith("hey :)"),
          f"the edit chain is one message, the latest version: {chain.get('text')!r}")

    # Retweets: boosts of their originals, whole text, originals shown.
    rts = retweets("withheld_page.jsonl") + retweets("mentions_tweet.jsonl") + \
        retweets("noflat_page.jsonl")
    check(len(rts) >= 6, f"the fixtures hold retweets with originals ({len(rts)})")
    for rid, orig in rts:
        m = msgs.get(rid, {})
        check(m.get("boost_of") == orig["id"], f"retweet {rid} is a boost of {orig['id']}")
        check(ELLIPSIS not in m.get("text", ELLIPSIS)[-3:] and not m.get("text", "").startswith("RT @"),
              f"retweet {rid} has the whole text: {m.get('text', '')[-40:]!r}")
        check(orig["id"] in msgs, f"the original {orig['id']} of retweet {rid} is a message")

    # Withheld or suspended authors: a placeholder, the tweet kept.
    (page,) = pages("withheld_page.jsonl")
    users = {u["id"] for u in page["includes"]["users"]}
    lost = [t for t in page["data"] if t["author_id"] not in users]
    check(len(lost) == 6, f"6 tweets without their author in includes ({len(lost)})")
    for t in lost:
        m = msgs.get(t["id"], {})
        check(m.get("author", {}).get("handle") == "@unknown" and
              m["author"]["id"] == t["author_id"],
              f"tweet {t['id']} kept under @unknown, author id {t['author_id']} kept")
    check("missing author" not in se, "no tweet is rejected for its author")
    check("withheld_page.jsonl:1: the page reports 3 API errors" in se,
          f"the page's errors beside data are reported ({se.strip()[-300:]})")

    # A quote carries its quoted post, which is a message too.
    for name in ("noflat_page.jsonl", "quoted_edit.jsonl"):
        for p in pages(name):
            inc = {t["id"]: t for t in p["includes"].get("tweets", [])}
            for t in p["data"]:
                q = [r["id"] for r in t.get("referenced_tweets", []) if r["type"] == "quoted"]
                if q:
                    qid = inc[q[0]].get("edit_history_tweet_ids", q)[0] if q[0] in inc else q[0]
                    check(msgs.get(t["id"], {}).get("quote_of") == qid,
                          f"{name}: {t['id']} quotes {qid}")
                    check(qid in msgs, f"{name}: the quoted {qid} is a message")

    # Rule 6 of issue 14: the transcripts show the quoted post as a quote
    # inside the quote post (not a bare link to it, not a second copy).
    check_quotes(out, msgs)

    # The stream capture's torn last line.
    check("stream_torn.jsonl:3: the last line is cut short" in se,
          f"the torn last line is named ({se.strip()[-300:]})")

    # An empty folder is an error, exit 2.
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    rc, so, se = run("import", "--platform", "twarc", empty, "--session", sess,
                     "--out", os.path.join(tmp, "none"))
    check(rc == 2 and "no files" in se, f"an empty folder exits 2 ({rc}: {se.strip()})")


def md_items(out):
    """transcript.md's messages: the text of each list item, nested items apart."""
    items, cur = [], None
    with open(os.path.join(out, "transcript.md"), encoding="utf-8") as f:
        for line in f:
            body = line.lstrip(" ")
            if body.startswith("- **"):
                cur = [body]
                items.append(cur)
            elif cur is not None and line.strip():
                cur.append(body)
            elif not line.strip() and cur is not None and len(cur) > 0 and cur[-1] == "":
                cur = None
            elif cur is not None:
                cur.append("")
    return ["".join(i) for i in items]


def check_quotes(out, msgs):
    items = md_items(out)
    with open(os.path.join(out, "transcript.html"), encoding="utf-8") as f:
        page = f.read()
    quotes = [m for m in msgs.values() if m.get("quote_of") in msgs]
    check(len(quotes) >= 1, f"quotes whose quoted post is in the archive ({len(quotes)})")
    for m in quotes:
        q = msgs[m["quote_of"]]
        mine = [i for i in items if f"({m['url']})" in i.splitlines()[0]]
        check(len(mine) == 1, f"quote {m['id']} is one item of transcript.md ({len(mine)})")
        if not mine:
            continue
        lines = mine[0].splitlines()
        quoted = [x for x in lines if x.startswith("> ")]
        check(any(f"({q['url']})" in x for x in quoted),
              f"quote {m['id']}: the quoted {q['id']} is shown as a quote with its link")
        bare = [x for x in lines if not x.startswith("> ") and f"/{q['id']}" in x]
        check(not bare, f"quote {m['id']}: no bare link to the quoted post ({bare})")
        check(f'<blockquote class="quote">' in page, "transcript.html has the quote")


def test_originals_before_the_window(tmp):
    """noflat_page's tweets span 19:33-19:35; the originals of its retweets
    are hours older: they are kept (a stub of the original, at its own time)
    so each retweet shows as a boost under it in the transcript."""
    sess = os.path.join(tmp, "tight.session.json")
    session(sess, "2021-04-08T19:33", "3m")
    out = os.path.join(tmp, "tight")
    rc, so, se = run("import", "--platform", "twarc", os.path.join(FIX, "noflat_page.jsonl"),
                     "--session", sess, "--out", out)
    check(rc == 0, f"import exits 0 ({rc}: {se.strip()[-300:]})")
    msgs = messages(out)
    with open(os.path.join(out, "transcript.md"), encoding="utf-8") as f:
        transcript = f.read()
    rts = retweets("noflat_page.jsonl")
    older = [(r, o) for r, o in rts if o["created_at"] < "2021-04-08T19:33"]
    check(len(older) >= 2, f"retweets of tweets from before the window ({len(older)})")
    for rid, orig in older:
        check(msgs.get(rid, {}).get("boost_of") == orig["id"] and orig["id"] in msgs,
              f"retweet {rid}: its original {orig['id']} from {orig['created_at']} is kept")
        url = msgs.get(orig["id"], {}).get("url", "?")
        check(url in transcript, f"the original {orig['id']} is in the transcript")
        booster = msgs.get(rid, {}).get("author", {}).get("handle", "?")
        line = next((x for x in transcript.splitlines() if f"({url})" in x), "")
        check("boosted by" in line and booster in line,
              f"the original {orig['id']} says it was boosted by {booster}: {line[-120:]!r}")


def test_bad_reference(tmp):
    """A referenced tweet without its type (its original in includes): the
    tweet is rejected with the field named, never taken for out of memory
    (the page's includes hold an intact copy of it, which is imported)."""
    (page,) = pages("mentions_tweet.jsonl")
    del page["data"][0]["referenced_tweets"][0]["type"]
    path = os.path.join(tmp, "untyped.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(page) + "\n")
    sess = os.path.join(tmp, "untyped.session.json")
    session(sess, "2022-11-07T18:00", "1h")
    rc, so, se = run("import", "--platform", "twarc", path, "--session", sess,
                     "--out", os.path.join(tmp, "untyped"))
    check(rc in (0, 2) and "untyped.jsonl:1: x tweet 1589681856941002753: missing type" in se
          and "memory" not in se,
          f"an untyped reference is named, no crash ({rc}: {se.strip()[-300:]})")


def main():
    with tempfile.TemporaryDirectory(prefix="ck-import-x-") as tmp:
        test_folder(tmp)
        test_originals_before_the_window(tmp)
        test_bad_reference(tmp)
    finish()


main()
