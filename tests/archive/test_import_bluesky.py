"""End to end: `import --platform bluesky` on a real saved searchPosts page
(tests/fixtures/bluesky, from ../shared/api-examples) and a getPostThread
answer built from its posts: every post once (a post in both is one
message), bsky.app URLs, the format found without --platform too.
usage: test_import_bluesky.py CHATKEEPER SOURCE_ROOT"""
import json
import os
import tempfile

from importkit import ROOT, check, finish, read, run

PAGE = os.path.join(ROOT, "tests", "fixtures", "bluesky", "bluesky-searchPosts.response.json")


def messages(out):
    with open(os.path.join(out, "messages.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def quoted_views(posts):
    """(quote post, the quoted post's embedded view) for each real quote post."""
    out = []
    for p in posts:
        e = p.get("embed", {})
        if e.get("$type") == "app.bsky.embed.record#view" and \
                e["record"].get("$type") == "app.bsky.embed.record#viewRecord":
            out.append((p, e["record"]))
    return out


def check_quotes(tmp, page, sess, out):
    """Issue 14: a quote post whose quoted post is not in the archive shows a
    stub (its author and link, from the post's quote line), not the bare line;
    once the quoted post is in the archive, the quote shows it instead."""
    uris = {p["uri"] for p in page["posts"]}
    quotes = [(p, q) for p, q in quoted_views(page["posts"]) if q["uri"] not in uris]
    check(quotes, "the page has quote posts whose quoted post it lacks (%d)" % len(quotes))
    md = read(os.path.join(out, "transcript.md"))
    html = read(os.path.join(out, "transcript.html"))
    rc, cu, se = run("catchup", out, "--width", "300")
    check(rc == 0, "catchup exits 0 (%d %s)" % (rc, se.strip()[-200:]))
    for p, q in quotes:
        h, rkey = q["author"]["handle"], q["uri"].rsplit("/", 1)[1]
        url = "https://bsky.app/profile/%s/post/%s" % (h, rkey)
        check("> Quoting @%s · [a post not in this archive](%s)" % (h, url) in md,
              "transcript.md: a stub quoting @%s with its link" % h)
        check("Quoting <bdi>@%s</bdi> · <a href=\"%s\"" % (h, url) in html,
              "transcript.html: the same stub")
        check("quoting @%s, a post not in this archive: %s" % (h, url) in cu,
              "catchup: the same stub")
    check("[quote" not in md and "[quote" not in cu, "no bare quote line is left in the text")

    # The quoted post, as the API embeds it, added to the page as a post.
    page2 = dict(page, posts=page["posts"] + [
        {"uri": q["uri"], "cid": q["cid"], "author": q["author"], "record": q["value"],
         "indexedAt": q["indexedAt"], "likeCount": q.get("likeCount", 0),
         "replyCount": q.get("replyCount", 0), "repostCount": q.get("repostCount", 0),
         "labels": []} for _, q in quotes])
    saved = os.path.join(tmp, "page2.json")
    with open(saved, "w", encoding="utf-8") as f:
        json.dump(page2, f)
    out2 = os.path.join(tmp, "with-quoted")
    rc, so, se = run("import", "--platform", "bluesky", saved, "--session", sess, "--out", out2)
    check(rc == 0, "import with the quoted posts exits 0 (%d %s)" % (rc, se.strip()[-200:]))
    md = read(os.path.join(out2, "transcript.md"))
    rc, cu, se = run("catchup", out2, "--width", "300")
    for p, q in quotes:
        name = q["author"].get("displayName") or q["author"]["handle"]
        check("> **[%s](" % name in md, "transcript.md: the quoted post by %s inside the quote"
              % name)
        check("quoting %s @%s:" % (name, q["author"]["handle"]) in cu,
              "catchup: the quoted post inside the quote")
    check("Quoting @" not in md and "[quote" not in md,
          "transcript.md: no stub and no bare quote line once the post is here")


def main():
    with open(PAGE, encoding="utf-8") as f:
        page = json.load(f)
    posts = page["posts"]
    uris = {p["uri"] for p in posts}
    with tempfile.TemporaryDirectory() as tmp:
        sess = os.path.join(tmp, "session.json")
        with open(sess, "w", encoding="utf-8") as f:
            json.dump({"title": "Bluesky import", "hashtag": "sociology", "timezone": "UTC",
                       "start": "2025-05-19T00:00", "duration": "18h",
                       "facilitators": ["@nobody"],
                       "questions": [{"at": "1m", "text": "Q1 anything?"}]}, f)
        thread = os.path.join(tmp, "thread.json")
        with open(thread, "w", encoding="utf-8") as f:
            json.dump({"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": posts[0],
                                  "replies": [{"$type": "app.bsky.feed.defs#threadViewPost",
                                               "post": posts[1], "replies": []},
                                              {"$type": "app.bsky.feed.defs#notFoundPost",
                                               "uri": "at://did:plc:x/app.bsky.feed.post/3aaa",
                                               "notFound": True}]}}, f)
        saved = os.path.join(tmp, "page.json")
        with open(saved, "w", encoding="utf-8") as f:
            json.dump(page, f, indent=2)  # pretty-printed, as a browser saves it

        out = os.path.join(tmp, "given")
        rc, so, se = run("import", "--platform", "bluesky", saved, thread, "--session", sess,
                         "--out", out)
        check(rc == 0, "import --platform bluesky exits 0 (%d: %s)" % (rc, se.strip()[-300:]))
        msgs = messages(out) if rc == 0 else []
        ids = [m["id"] for m in msgs]
        check(len(ids) == len(set(ids)), "every post once (%d lines)" % len(ids))
        check(set(ids) == uris, "the page's %d posts are the messages (%d)" % (len(uris), len(ids)))
        check(all(m.get("url", "").startswith("https://bsky.app/profile/") for m in msgs),
              "every message links to bsky.app")
        with open(os.path.join(out, "session.json"), encoding="utf-8") as f:
            check(json.load(f).get("imported") == "bluesky", "session.json says imported: bluesky")
        with open(os.path.join(out, "journal.jsonl"), encoding="utf-8") as f:
            plats = {json.loads(line)["platform"] for line in f}
        check(plats == {"bluesky"}, "journal lines say platform bluesky (%s)" % plats)

        out2 = os.path.join(tmp, "found")
        rc, so, se = run("import", saved, "--session", sess, "--out", out2)
        check(rc == 0 and "Bluesky posts" in so, "without --platform: read as Bluesky posts (%d %s)"
              % (rc, (so + se).strip()[-200:]))

        check_quotes(tmp, page, sess, out)

        rc, so, se = run("import", "--platform", "mastodon", saved, "--session", sess, "--out",
                         os.path.join(tmp, "wrong"))
        check(rc == 2 and "--platform bluesky" in se, "a wrong --platform suggests bluesky (%d %s)"
              % (rc, se.strip()[-200:]))
    finish()


main()
