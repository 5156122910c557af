"""End to end: `import --platform bluesky` on a real saved searchPosts page
(tests/fixtures/bluesky, from ../shared/api-examples) and a getPostThread
answer built from its posts: every post once (a post in both is one
message), bsky.app URLs, the format found without --platform too.
usage: test_import_bluesky.py CHATKEEPER SOURCE_ROOT"""
import json
import os
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
PAGE = os.path.join(sys.argv[2], "tests", "fixtures", "bluesky", "bluesky-searchPosts.response.json")
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def messages(out):
    with open(os.path.join(out, "messages.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


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

        rc, so, se = run("import", "--platform", "mastodon", saved, "--session", sess, "--out",
                         os.path.join(tmp, "wrong"))
        check(rc == 2 and "--platform bluesky" in se, "a wrong --platform suggests bluesky (%d %s)"
              % (rc, se.strip()[-200:]))
    if FAILS:
        print("%d failed" % len(FAILS))
        sys.exit(1)


main()
