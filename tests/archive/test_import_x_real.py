"""End to end on the whole real twarc2 files (tests/fixtures/x/twarc2-real,
gzipped copies of shared/data/twarc2; see tests/fixtures/x/twarc2/README.md
for their origin and licence), issue 13 items 5 and 6. Every expectation is
computed here from the input files, independently of chatkeeper: which
tweets are retweets and whether X sent their originals, which authors X left
out, which tweets quote, edit chains, links, entities. Then the folder of
files is imported as it is (pages, not flattened), and again after this
script flattens it the way twarc2's `flatten` does (one tweet per line, its
author and references embedded, no line for the originals): both must give
the same messages.
usage: test_import_x_real.py CHATKEEPER SOURCE_ROOT"""
import gzip
import json
import os
import tempfile
from datetime import datetime, timedelta, timezone

import importkit
from importkit import ROOT, check, finish

REAL = os.path.join(ROOT, "tests", "fixtures", "x", "twarc2-real")
ELLIPSIS = "\u2026"


def run(*args):
    return importkit.run(*args, timeout=120)


def read_pages():
    """(file, page) for every line that parses; the torn lines counted."""
    out, torn = [], []
    for name in sorted(os.listdir(REAL)):
        with gzip.open(os.path.join(REAL, name), "rt", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    page = json.loads(line)
                except ValueError:
                    torn.append((name, n))
                    continue
                data = page.get("data")
                if data is None:
                    continue
                page["data"] = data if isinstance(data, list) else [data]
                out.append((name, page))
    return out, torn


def ptime(s):
    return datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


def head(t):
    return t.get("edit_history_tweet_ids", [t["id"]])[0]


def session(path, tweets):
    """A window holding every tweet of the files (start and length computed)."""
    first = min(ptime(t["created_at"]) for t in tweets) - timedelta(days=1)
    last = max(ptime(t["created_at"]) for t in tweets) + timedelta(days=1)
    doc = {"title": "twarc2 real", "hashtag": "testchat", "timezone": "UTC",
           "start": first.strftime("%Y-%m-%dT00:00"), "duration": f"{(last - first).days + 2}d",
           "facilitators": ["@nobody"], "questions": [{"at": "1m", "text": "Q1 anything?"}]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)


def messages(out):
    with open(os.path.join(out, "messages.jsonl"), encoding="utf-8") as f:
        raw = f.read()
    return {m["id"]: m for m in map(json.loads, raw.splitlines())}, raw


def expected(pages):
    """What the files say, computed without chatkeeper."""
    # Versions of an edit chain that a later version in the files supersedes.
    superseded = {v for _, page in pages for t in page["data"]
                  for v in t.get("edit_history_tweet_ids", [])[:-1]}
    e = {"tweets": {}, "rt_with": [], "rt_without": [], "quotes": [], "unknown": [],
         "amp": [], "links": [], "mentions": []}
    for name, page in pages:
        inc = page.get("includes", {})
        tweets = {t["id"]: t for t in inc.get("tweets", [])}
        users = {u["id"] for u in inc.get("users", [])}
        for t in page["data"]:
            e["tweets"][t["id"]] = t
            if t["id"] in superseded:
                continue  # an earlier version of an edit: the message is the latest's
            refs = {r["type"]: r["id"] for r in t.get("referenced_tweets", [])}
            if "retweeted" in refs:
                o = tweets.get(refs["retweeted"])
                (e["rt_with"] if o else e["rt_without"]).append((t, o))
                src = o
            else:
                src = t
            if "quoted" in refs:
                q = tweets.get(refs["quoted"])
                e["quotes"].append((t, head(q) if q else refs["quoted"], q is not None))
            if t["author_id"] not in users:
                e["unknown"].append(t)
            if src is None:
                continue
            text = src.get("note_tweet", {}).get("text", src["text"])
            ents = src.get("note_tweet", {}).get("entities", src.get("entities", {}))
            if "&amp;" in text and "&amp;amp;" not in text:
                e["amp"].append((t, src))
            for u in ents.get("urls", []):
                if "media_key" not in u and u.get("url") in text and u.get("expanded_url"):
                    e["links"].append((t, u["url"], u["expanded_url"]))
            for m in ents.get("mentions", []):
                e["mentions"].append((t, m["username"]))
    return e


def check_archive(label, out, e, se):
    msgs, raw = messages(out)
    with open(os.path.join(out, "transcript.md"), encoding="utf-8") as f:
        transcript = f.read()
    tweets = e["tweets"]
    heads = {head(t) for t in tweets.values()}
    missing = [i for i in heads if i not in msgs]
    check(not missing, f"{label}: each of the {len(tweets)} tweets is a message (by edit chain: "
          f"{len(heads)}); missing {missing[:5]}")
    check(all(f'"id":"{i}"' in raw for i in msgs), f"{label}: ids are strings in messages.jsonl")
    big = [i for i in msgs if int(i) > 2 ** 53]
    check(len(big) > len(msgs) // 2, f"{label}: ids over 2^53 kept exactly ({len(big)})")
    check(all(m.get("uri") == "https://x.com/i/web/status/" + i and
              m["url"].startswith("https://x.com/") and m["url"].endswith("/status/" +
                                                                           m["url"].rsplit("/", 1)[1])
              for i, m in msgs.items()), f"{label}: uri https://x.com/i/web/status/ID, x.com urls")
    named = [m for m in msgs.values() if m["author"]["handle"] != "@unknown"]
    check(all(m["url"] == "https://x.com/%s/status/%s" % (m["author"]["handle"][1:],
                                                           m["url"].rsplit("/", 1)[1])
              for m in named), f"{label}: url https://x.com/USER/status/ID ({len(named)})")

    # Retweets whose original X sent: a boost of it, its whole text, it a message.
    bad = [t["id"] for t, o in e["rt_with"]
           if msgs.get(t["id"], {}).get("boost_of") != o["id"] or o["id"] not in msgs
           or msgs[t["id"]]["text"].startswith("RT @")
           or (msgs[t["id"]]["text"].endswith(ELLIPSIS) and not o["text"].endswith(ELLIPSIS))]
    check(e["rt_with"] and not bad,
          f"{label}: {len(e['rt_with'])} retweets are boosts of their originals, whole text; "
          f"wrong: {bad[:5]}")
    shown = [t["id"] for t, o in e["rt_with"] if msgs[o["id"]]["url"] in transcript]
    check(len(shown) == len(e["rt_with"]),
          f"{label}: the original of each is in the transcript ({len(shown)})")
    # Retweets whose original X did not send: the retweeter's message, shown.
    bad = [t["id"] for t, _ in e["rt_without"]
           if msgs.get(t["id"], {}).get("boost_of") is not None
           or msgs[t["id"]]["url"] not in transcript]
    check(e["rt_without"] and not bad,
          f"{label}: {len(e['rt_without'])} retweets without their original are messages in "
          f"the transcript; wrong: {bad[:5]}")

    bad = [t["id"] for t, q, _ in e["quotes"] if msgs.get(t["id"], {}).get("quote_of") != q]
    check(e["quotes"] and not bad, f"{label}: {len(e['quotes'])} quotes carry quote_of; "
          f"wrong: {bad[:5]}")
    bad = [q for _, q, have in e["quotes"] if have and q not in msgs]
    check(not bad, f"{label}: each quoted post X sent is a message (for the quote): {bad[:5]}")
    # Quoted posts X did not send (issue 14): a stub with the author and the
    # link the tweet's own entities give, in place of the bare link.
    stubs, bad = 0, []
    for t, q, have in e["quotes"]:
        if have or q in msgs:  # another page may have sent it
            continue
        links = [u["expanded_url"] for u in t.get("entities", {}).get("urls", [])
                 if u.get("expanded_url", "").rstrip("/").endswith("/status/" + q)]
        if not links:
            continue
        user = links[0].split("/")[3]
        stub = f"> Quoting @{user} · [a post not in this archive]({links[0]})"
        item = transcript.find(msgs[head(t)]["url"])
        end = transcript.find("\n- ", item)
        if item < 0 or stub not in transcript[item:end if end > 0 else None]:
            bad.append(t["id"])
        stubs += 1
    check(stubs and not bad, f"{label}: {stubs} quotes of posts X did not send show a stub "
          f"naming the author, with the link; wrong: {bad[:5]}")

    bad = [t["id"] for t in e["unknown"]
           if msgs.get(head(t), {}).get("author", {}).get("handle") != "@unknown"
           or msgs[head(t)]["author"]["id"] != t["author_id"]]
    check(e["unknown"] and not bad, f"{label}: {len(e['unknown'])} tweets without their author "
          f"are kept under @unknown, author id kept; wrong: {bad[:5]}")
    check("missing author" not in se, f"{label}: no tweet is rejected for its author")

    bad = [t["id"] for t, _ in e["amp"] if "&amp;" in msgs[head(t)]["text"]
           or "&" not in msgs[head(t)]["text"]]
    check(e["amp"] and not bad, f"{label}: &amp; decoded once in {len(e['amp'])} tweets; "
          f"wrong: {bad[:5]}")
    bad = [(t["id"], short) for t, short, full in e["links"]
           if full not in msgs[head(t)]["text"] or short in msgs[head(t)]["text"]]
    check(e["links"] and not bad, f"{label}: {len(e['links'])} t.co links expanded; "
          f"wrong: {bad[:5]}")
    # X's entity has the account's own case; the text, what the person typed.
    bad = [t["id"] for t, user in e["mentions"]
           if "@" + user.lower() not in msgs[head(t)]["text"].lower()]
    check(e["mentions"] and not bad, f"{label}: {len(e['mentions'])} mentions kept as @user; "
          f"wrong: {bad[:5]}")

    # The edit chain: one message, the latest version, edited_at set.
    chains = {}
    for t in tweets.values():
        if len(t.get("edit_history_tweet_ids", [])) > 1:
            chains.setdefault(head(t), []).append(t)
    for h, versions in chains.items():
        latest = max(versions, key=lambda t: t["created_at"])
        m = msgs.get(h, {})
        later = [v for v in t.get("edit_history_tweet_ids", []) if v != h]
        check(m.get("edited_at") == latest["created_at"] and
              all(v not in msgs for v in later),
              f"{label}: edit chain {h} is one message, edited_at {latest['created_at']}")
    return msgs


def flatten(pages):
    """twarc2's flatten: each data tweet with its author and its referenced
    tweets (with their authors) embedded; no line for the included tweets."""
    lines = []
    for _, page in pages:
        inc = page.get("includes", {})
        users = {u["id"]: u for u in inc.get("users", [])}
        tweets = {t["id"]: t for t in inc.get("tweets", [])}
        media = {m["media_key"]: m for m in inc.get("media", [])}

        def one(t):
            t = dict(t)
            if t.get("author_id") in users:
                t["author"] = users[t["author_id"]]
            keys = t.get("attachments", {}).get("media_keys")
            if keys:
                t["attachments"] = dict(t["attachments"],
                                        media=[media[k] for k in keys if k in media])
            return t

        for t in page["data"]:
            f = one(t)
            if "referenced_tweets" in t:
                f["referenced_tweets"] = [dict(one(tweets[r["id"]]), type=r["type"])
                                          if r["id"] in tweets else r
                                          for r in t["referenced_tweets"]]
            f["__twarc"] = page.get("__twarc", {})
            lines.append(json.dumps(f))
    return lines


def main():
    pages, torn = read_pages()
    e = expected(pages)
    print(f"inputs: {len(pages)} pages, {len(e['tweets'])} tweets, {len(e['rt_with'])} + "
          f"{len(e['rt_without'])} retweets, {len(e['quotes'])} quotes, "
          f"{len(e['unknown'])} authors missing, {len(torn)} torn lines")
    with tempfile.TemporaryDirectory(prefix="ck-import-x-real-") as tmp:
        sess = os.path.join(tmp, "s.json")
        session(sess, e["tweets"].values())
        out = os.path.join(tmp, "pages")
        rc, so, se = run("import", REAL, "--session", sess, "--out", out)
        check(rc == 0, f"import of the folder exits 0 ({rc}: {se.strip()[-300:]})")
        for name, n in torn:
            check(f"{name}:{n}: the last line is cut short" in se, f"torn line {name}:{n} named")
        pmsgs = check_archive("pages", out, e, se)

        flat = os.path.join(tmp, "flat.jsonl")
        with open(flat, "w", encoding="utf-8") as f:
            f.write("\n".join(flatten(pages)) + "\n")
        out2 = os.path.join(tmp, "flat")
        rc, so, se = run("import", "--platform", "twarc", flat, "--session", sess, "--out", out2)
        check(rc == 0, f"import of the flattened file exits 0 ({rc}: {se.strip()[-300:]})")
        fmsgs = check_archive("flattened", out2, e, se)
        # Flattened lines carry only the included tweets their tweets point
        # at; pages have the rest of includes too (replied-to parents are not
        # imported from either), so the messages are the same.
        diff = sorted(set(pmsgs) ^ set(fmsgs))
        check(not diff, f"pages and flattened give the same messages ({len(pmsgs)}): {diff[:5]}")
        same = [i for i in pmsgs if i in fmsgs and pmsgs[i] == fmsgs[i]]
        check(len(same) == len(pmsgs), f"... with the same fields ({len(same)} of {len(pmsgs)})")
    finish()


main()
