"""End to end, issue 14 rule 6 on Mastodon 4.4 quote posts: `import
--platform mastodon` of statuses in the API docs' shape
(tests/fixtures/mastodon/quote-statuses.json: an accepted quote of a remote
post with its quoted_status, an accepted ShallowQuote of the first, a revoked
quote). transcript.md shows a quote whose quoted post is not in the archive
as a stub with its author and link, one whose quoted post is as a quote (and
that post not a second time), and leaves a revoked quote's text as it is.
usage: test_import_mastodon_quote.py CHATKEEPER SOURCE_ROOT"""
import json
import os
import tempfile

from importkit import ROOT, check, finish, read, run

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "mastodon", "quote-statuses.json")


def bare_quote_lines(md):
    """Quote lines left in a post's own text: outside a quoted post (whose
    own quote line, a quote of a quote, is shown as its text says)."""
    return [ln for ln in md.splitlines() if "[quote" in ln and not ln.lstrip().startswith(">")]


def import_(tmp, name, statuses, sess):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(statuses, f, indent=2)
    out = os.path.join(tmp, name)
    rc, so, se = run("import", "--platform", "mastodon", path, "--session", sess, "--out", out)
    check(rc == 0, "%s: import exits 0 (%d %s)" % (name, rc, se.strip()[-300:]))
    return out


def main():
    with open(FIXTURE, encoding="utf-8") as f:
        statuses = json.load(f)
    ann, cat, dan = statuses
    bob = ann["quote"]["quoted_status"]
    ann_url, bob_url = ann["url"], bob["url"]
    with tempfile.TemporaryDirectory() as tmp:
        sess = os.path.join(tmp, "session.json")
        with open(sess, "w", encoding="utf-8") as f:
            json.dump({"title": "Quotes", "hashtag": "testchat", "timezone": "UTC",
                       "start": "2026-12-04T01:00", "duration": "1h",
                       "facilitators": ["@host@mastodon.example"],
                       "questions": [{"at": "5m", "text": "Q1 why share?"}]}, f)

        # Bob's quoted post is not in the archive: a stub, from the quote line.
        out = import_(tmp, "without", statuses, sess)
        msgs = {}
        with open(os.path.join(out, "messages.jsonl"), encoding="utf-8") as f:
            for line in f:
                m = json.loads(line)
                msgs[m["id"]] = m
        check(msgs[ann["id"]].get("quote_of") == bob["id"], "an accepted quote names its post")
        check(msgs[cat["id"]].get("quote_of") == ann["id"], "so does a ShallowQuote")
        check("quote_of" not in msgs[dan["id"]], "a revoked quote names none")
        md = read(os.path.join(out, "transcript.md"))
        check("> Quoting @bob@other.example · [a post not in this archive](%s)" % bob_url in md,
              "transcript.md: a stub quoting @bob@other.example with its link")
        check("> **[Ann](" in md, "transcript.md: Cat's quote shows Ann's post inside it")
        check("RE: [%s](%s)" % (bob_url, bob_url) in md,
              "transcript.md: the revoked quote keeps its RE: line")
        check(md.count("RE: ") == 1, "no other RE: fallback line is left")
        check(not bare_quote_lines(md), "no bare quote line is left in the text")

        # With Bob's post (as the API embeds it) in the archive: a quote, once.
        out2 = import_(tmp, "with", [bob] + statuses, sess)
        md = read(os.path.join(out2, "transcript.md"))
        check("> **[Bob](" in md, "transcript.md: Bob's post inside Ann's quote")
        check("Quoting @" not in md and not bare_quote_lines(md),
              "transcript.md: no stub and no bare quote line once the post is here")
        check(md.count("Sharing is the whole point") == 1,
              "Bob's post, outside the window, is not shown a second time")
        check(ann_url in md, "Ann's post is linked")
    finish()


if __name__ == "__main__":
    main()
