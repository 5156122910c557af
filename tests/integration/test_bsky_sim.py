"""Bluesky against the real simulator (`chatkeeper simulate` serves the chat as
XRPC too): how many searches a poll costs, mentions resolved to DIDs, and
what the run does on Bluesky at publish time. Loopback only, port 0.
usage: test_bsky_sim.py CHATKEEPER [test names]"""
import json
import os
import re
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from ckit import SimSession, check, iso, run_tests  # noqa: E402

BIN = sys.argv[1]
SPEED = 30
PASSWORD = "sim-app-password"


def write_script(path, n, every_s, accounts=40, extra_accounts=None, prefix=""):
    """n tagged statuses, one every every_s seconds of the chat, by accounts
    people; extra_accounts (key -> account) are added as they are."""
    accts = {"host": {"username": "uklibchat", "domain": None, "display_name": "#uklibchat"}}
    for i in range(accounts):
        accts[f"a{i}"] = {"username": f"user{i}", "domain": None, "display_name": f"Person {i}"}
    accts.update(extra_accounts or {})
    statuses = [{"key": f"s{i}", "at": f"{i * every_s}s", "account": f"a{i % accounts}",
                 "text": f"{prefix}Answer {i} about the library #uklibchat"} for i in range(n)]
    doc = {"title": "Bluesky sim test", "hashtag": "uklibchat", "self": "host",
           "accounts": accts, "questions": ["Question 1"], "statuses": statuses}
    with open(path, "w") as f:
        json.dump(doc, f)


class Run(SimSession):
    def __init__(self, *, n=0, every_s=1, duration="6m", post=False, extra=None, steps=None,
                 extra_accounts=None, sim_args=(), answers=""):
        super().__init__(BIN, speed=SPEED, prefix="ck-bsky-sim-", start_in_ms=3000,
                         run_args=("--no-console",), env={"CK_TEST_PW": PASSWORD},
                         log_tail=6000)
        self.script = os.path.join(self.tmp, "script.json")
        write_script(self.script, n, every_s, extra_accounts=extra_accounts, prefix=answers)
        self.sim = self.start_sim(self.script, *sim_args)
        doc = {"title": "Bluesky sim test", "hashtag": "uklibchat", "timezone": "UTC",
               "start": iso(self.start_ms), "duration": duration, "lead": "30s", "grace": "30s",
               "platform": {"type": "bluesky", "base_url": self.sim.base,
                            "handle": "uklibchat.bsky.social", "password_env": "CK_TEST_PW"},
               "post": post, "questions": [{"at": "1m", "text": "Question 1?"}]}
        doc.update(steps or {})
        doc.update(extra or {})
        self.write(doc)

    def run(self, *args, timeout=180):
        return super().run(*args, timeout=timeout)

    def requests(self, method):
        """The simulator's log of XRPC method calls: (path, query dict, status)."""
        out = []
        for q in self.sim.get("/sim/requests"):
            path, _, query = q["path"].partition("?")
            if path == "/xrpc/" + method:
                out.append((path, urllib.parse.parse_qs(query), q.get("status")))
        return out


def scenario(fn, **kw):
    with Run(**kw) as r:
        fn(r)


def test_bluesky_poll_stops_at_its_overlap():
    """360 posts, one a second of the chat, polled every 3 s of it: each poll
    reads down to the posts it already had and stops there (one page, now and
    then two), where it read the last 10 minutes of posts every time (about
    five pages a poll here). Nothing is lost: the sweep reads the window."""
    def body(r):
        check(r.run("--poll", "100ms") == 0, "run did not exit 0")
        searches = r.requests("app.bsky.feed.searchPosts")
        polls = [q for _, q, _ in searches if "until" not in q]
        firsts = sum(1 for q in polls if "cursor" not in q)
        more = len(polls) - firsts
        print(f"  {firsts} polls, {more} further pages, {len(searches) - len(polls)} sweep pages")
        check(firsts >= 20, f"only {firsts} polls")
        # A poll of k new posts needs ceil((k + overlap) / 40) pages; k is a few
        # here, so further pages are rare. Reading the window each time is
        # several per poll.
        check(more <= firsts // 4 + 360 // 40 + 5,
              f"{more} further pages for {firsts} polls: the polls page past their overlap")
        msgs = r.messages()
        texts = {m.get("text", "") for m in msgs}
        missing = [i for i in range(360) if f"Answer {i} about the library #uklibchat" not in texts]
        check(not missing, f"{len(missing)} posts not captured, e.g. {missing[:5]}")
    # A rate limit that holds nothing back here: the count is the follower's own.
    scenario(body, n=360, every_s=1, sim_args=("--rate-limit", "3000", "--rate-window", "10s"))


def record_of(r, uri):
    """The record at an at:// URI, as the simulator's getRecord shows it."""
    repo, coll, rkey = uri[len("at://"):].split("/")
    q = urllib.parse.urlencode({"repo": repo, "collection": coll, "rkey": rkey})
    return r.sim.get("/xrpc/com.atproto.repo.getRecord?" + q)["value"]


def test_bluesky_mentions_resolved_once():
    """Steps naming @user3.bsky.social and @nobody.example.org: each handle is
    resolved once for the run (resolveHandle, without a token), the known one
    becomes a mention facet with the account's DID at its UTF-8 byte offsets,
    the unknown one stays plain text with one log line."""
    mention = "Caf\u00e9 host @user3.bsky.social and @nobody.example.org"
    steps = {"thread": True,
             "welcome": {"at": "0m", "text": "Welcome! " + mention},
             "questions": [{"at": "1m", "text": "Q1 for @user3.bsky.social: what now?"}],
             "closing": {"at": "2m", "text": "Thanks, @nobody.example.org"}}

    def body(r):
        check(r.run() == 0, "run did not exit 0")
        st = r.state()["steps"]
        for k in ("welcome", "Q1", "closing"):
            check(st.get(k, {}).get("status") == "posted", f"step {k}: {st.get(k)}")
        q = urllib.parse.urlencode({"handle": "user3.bsky.social"})
        did = r.sim.get("/xrpc/com.atproto.identity.resolveHandle?" + q)["did"]
        asked = [(q.get("handle", [""])[0], code) for _, q, code in
                 r.requests("com.atproto.identity.resolveHandle")][:-1]  # the test's own last
        check(sorted(h for h, _ in asked) == ["nobody.example.org", "user3.bsky.social"],
              f"resolveHandle asked {asked}, want each handle once")
        for k, want in (("welcome", 1), ("Q1", 1), ("closing", 0)):
            rec = record_of(r, st[k]["id"])
            text = rec["text"].encode()
            ments = [f for f in rec.get("facets", [])
                     if f["features"][0]["$type"] == "app.bsky.richtext.facet#mention"]
            check(len(ments) == want, f"{k}: {len(ments)} mention facets, want {want}: {rec}")
            for f in ments:
                a, b = f["index"]["byteStart"], f["index"]["byteEnd"]
                check(text[a:b] == b"@user3.bsky.social", f"{k}: facet covers {text[a:b]!r}")
                check(f["features"][0]["did"] == did, f"{k}: facet DID {f['features'][0]}")
        log = r.log_text()
        check(log.count("@nobody.example.org is no bluesky account") == 1,
              "the unresolvable handle was not said exactly once")
    scenario(body, n=20, every_s=5, post=True, duration="3m", steps=steps)


def test_bluesky_publish_rechecks_and_announces_once():
    """A Bluesky session that publishes: at the end the run re-checks each
    quoted post by its at:// id (getRecord), publishes the write-up (a
    Micropub stand-in) and announces it on Bluesky once, a record whose key
    comes from the session; `chatkeeper publish` again announces nothing."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "publish"))
    from pubkit import Micropub
    mp = Micropub()
    os.environ["CK_TEST_MP_TOKEN"] = "mp-secret-token"
    steps = {"welcome": {"at": "0m", "text": "Welcome to the chat"},
             "questions": [{"at": "1m", "text": "Q1 What do you read?"}],
             "closing": {"at": "2m30s", "text": "Thanks all"},
             "publish": {"micropub": {"endpoint": mp.endpoint, "token_env": "CK_TEST_MP_TOKEN"},
                         "announce": True}}

    def body(r):
        check(r.run() == 0, "run did not exit 0")
        st = r.state()
        pub = st.get("published", {})
        check(len(mp.posts) == 1, f"{len(mp.posts)} write-ups published, want 1")
        ann = pub.get("announce", {})
        check(ann.get("id", "").startswith("at://") and
              ann.get("url", "").startswith("https://bsky.app/profile/"),
              f"the announcement is not recorded as a Bluesky post: {pub}")
        text = record_of(r, ann["id"])["text"]
        check(pub["micropub"]["url"] in text and "#uklibchat" in text,
              f"the announcement does not link the write-up: {text!r}")
        creates = [c for _, _, c in r.requests("com.atproto.repo.createRecord")]
        check(creates.count(200) == 4, f"createRecord answers {creates}: want 3 steps and "
              f"1 announcement")
        # The re-check: each post the write-up quotes asked for by its id, and found.
        with open(os.path.join(r.out, "writeup.md")) as f:
            quoted = set(re.findall(r"https://bsky\.app/profile/[^/\s]+/post/([a-z2-7]+)",
                                    f.read()))
        gets = r.requests("com.atproto.repo.getRecord")
        asked = {q["rkey"][0] for _, q, code in gets
                 if code == 200 and q.get("repo", [""])[0].startswith("did:plc:")}
        check(quoted, "the write-up quotes nothing: no re-check to test")
        check(quoted <= asked, f"quoted posts not re-checked: {sorted(quoted - asked)[:3]}")
        # Publishing again finds the announcement recorded: nothing posted twice.
        p = subprocess.run([BIN, "publish", r.out], stdout=r.log, stderr=subprocess.STDOUT,
                           env=r.env, timeout=120)
        check(p.returncode == 0, f"publish again exited {p.returncode}")
        check("announce: already posted" in r.log_text(), "a second publish did not find the first")
        creates = [c for _, _, c in r.requests("com.atproto.repo.createRecord")]
        check(creates.count(200) == 4, f"a second publish posted again: {creates}")
    try:
        scenario(body, n=24, every_s=5, post=True, duration="3m", steps=steps,
                 answers="A1 ")
    finally:
        mp.stop()


if __name__ == "__main__":
    tests = [test_bluesky_poll_stops_at_its_overlap, test_bluesky_mentions_resolved_once,
             test_bluesky_publish_rechecks_and_announces_once]
    sys.exit(run_tests(tests, sys.argv[2:]))
