"""Publishing without WordPress: Micropub against an endpoint that checks the
specification, the re-check of quoted posts and the announcement against the
simulator, imported sessions, and --dry-run.
Usage: test_publish.py CHATKEEPER TEST_NAME"""
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import ckit  # noqa: E402
from ckit import check  # noqa: E402
from pubkit import (Micropub, make_session_dir, message, publish, state,  # noqa: E402
                    tmpdir, write_secret)

BIN = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN_ENV = {"CK_TEST_MP_TOKEN": "mp-secret-token"}


def test_micropub_create_and_update():
    mp = Micropub()
    try:
        d = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": mp.endpoint, "token_env": "CK_TEST_MP_TOKEN",
                         "categories": ["uklibchat", "CPD"]}})
        r = publish(BIN, d, env=TOKEN_ENV)
        check(r.returncode == 0, f"publish failed: {r.stderr}")
        check(not mp.problems, f"endpoint saw bad requests: {mp.problems}")
        check(len(mp.requests) == 1, f"expected one request, got {len(mp.requests)}")
        body = mp.requests[0]["json"]
        props = body["properties"]
        check(props["name"][0].startswith("Online networks"), f"name: {props['name']}")
        html = props["content"][0]["html"]
        check("How do you use online networks for your CPD?" in html, "question missing")
        check("CILIP mailing lists" in html, "highlight missing")
        check("<b>free</b>" not in html, "raw HTML from a message passed through")
        check(props["category"] == ["uklibchat", "CPD"], f"category: {props['category']}")
        url = state(d)["published"]["micropub"]["url"]
        check(url == f"http://127.0.0.1:{mp.port}/posts/1", f"recorded url {url}")
        check("mp-secret-token" not in r.stdout + r.stderr, "token leaked into output")
        for f in ("writeup.md", "writeup.html"):
            check(os.path.exists(os.path.join(d, f)), f"{f} not written")

        r = publish(BIN, d, env=TOKEN_ENV)
        check(r.returncode == 0, f"second publish failed: {r.stderr}")
        check(len(mp.requests) == 2 and len(mp.posts) == 1, "second publish created a post")
        upd = mp.requests[1]["json"]
        check(upd.get("action") == "update" and upd.get("url") == url, f"not an update: {upd}")
        check("CILIP" in upd["replace"]["content"][0]["html"], "update lacks the content")
        check(not mp.problems, f"endpoint saw bad requests: {mp.problems}")
    finally:
        mp.stop()


def test_micropub_errors():
    mp = Micropub(token="the-right-one")
    broken = Micropub(broken=True)
    try:
        d = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": mp.endpoint, "token_env": "CK_TEST_MP_TOKEN"}})
        r = publish(BIN, d, env=TOKEN_ENV)
        check(r.returncode == 1, f"wrong token: exit {r.returncode}")
        check("401" in r.stderr and "unauthorized" in r.stderr, f"unclear error: {r.stderr}")
        check("mp-secret-token" not in r.stderr + r.stdout, "token leaked into the error")
        check("published" not in state(d), "recorded a post that does not exist")

        d2 = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": broken.endpoint, "token_env": "CK_TEST_MP_TOKEN"}})
        r = publish(BIN, d2, env=TOKEN_ENV)
        check(r.returncode == 1, f"HTML 500: exit {r.returncode}")
        check("HTTP 500" in r.stderr and "Internal Server Error" in r.stderr,
              f"unclear error: {r.stderr}")

        # Not a WordPress at all: an HTML error page where the REST API should be.
        d3 = make_session_dir(os.path.join(tmpdir(), "s"), {
            "wordpress": {"url": f"http://127.0.0.1:{broken.port}", "user": "editor",
                          "password_env": "CK_TEST_WP"}})
        r = publish(BIN, d3, env={"CK_TEST_WP": "xxxx xxxx"})
        check(r.returncode == 1 and "no WordPress REST API" in r.stderr, f"got: {r.stderr}")

        # No credentials at all, and a token file open to others.
        r = publish(BIN, d, env={"CK_TEST_MP_TOKEN": ""})
        check(r.returncode != 0 and "CK_TEST_MP_TOKEN is not set" in r.stderr, r.stderr)
        d4 = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": mp.endpoint, "token_file": "mp.token"}})
        write_secret(os.path.join(d4, "mp.token"), "the-right-one\n")
        os.chmod(os.path.join(d4, "mp.token"), 0o644)
        r = publish(BIN, d4)
        check(r.returncode != 0 and "chmod 600" in r.stderr, f"mode not refused: {r.stderr}")
        os.chmod(os.path.join(d4, "mp.token"), 0o600)
        r = publish(BIN, d4)
        check(r.returncode == 0, f"0600 token file refused: {r.stderr}")
    finally:
        mp.stop()
        broken.stop()


def crash_between_create_and_record(mp, d):
    """publish is killed (-9) after the endpoint made the post and before
    its answer arrived: the post exists, state.json does not name it."""
    mp.hold = threading.Event()
    e = dict(os.environ, **TOKEN_ENV)
    p = subprocess.Popen([BIN, "publish", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=e)
    t0 = time.time()
    while not mp.posts and time.time() - t0 < 60:
        time.sleep(0.05)
    check(len(mp.posts) == 1, "the create never reached the endpoint")
    p.kill()
    p.communicate()
    mp.hold.set()
    mp.hold = None
    rec = state(d).get("published", {}).get("micropub", {})
    check(rec.get("status") == "creating" and "url" not in rec,
          f"the intent was not saved before the create: {rec}")


def test_micropub_crash_between_create_and_record():
    mp = Micropub()
    try:
        d = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": mp.endpoint, "token_env": "CK_TEST_MP_TOKEN"}})
        crash_between_create_and_record(mp, d)
        r = publish(BIN, d, env=TOKEN_ENV)
        check(r.returncode == 0, f"publish after the crash failed: {r.stderr}")
        check(len(mp.posts) == 1, f"the crash made {len(mp.posts)} posts")
        url = next(iter(mp.posts))
        check(state(d)["published"]["micropub"]["url"] == url, f"recorded: {state(d)}")
        check("was not recorded" in r.stderr, f"did not say it found the post: {r.stderr}")
        gets = [q for q in mp.requests if q.get("method") == "GET"]
        check(len(gets) == 1 and "q=source" in gets[0]["path"], f"no look-up: {gets}")
        # From here on it is an ordinary recorded post: updated, never created.
        r = publish(BIN, d, env=TOKEN_ENV)
        check(r.returncode == 0 and len(mp.posts) == 1, f"third publish: {r.stderr}")
        check(not mp.problems, f"endpoint saw bad requests: {mp.problems}")

        # The intent saved but the create never sent (a crash just before):
        # the look-up finds nothing, and it is created once.
        d2 = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": mp.endpoint, "token_env": "CK_TEST_MP_TOKEN"}})
        st = state(d2)
        st["published"] = {"micropub": {"status": "creating", "key": "ck-0123456789abcdef"}}
        json.dump(st, open(os.path.join(d2, "state.json"), "w"))
        r = publish(BIN, d2, env=TOKEN_ENV)
        check(r.returncode == 0 and len(mp.posts) == 2, f"not created once: {r.stderr}")
        check(state(d2)["published"]["micropub"]["url"] == list(mp.posts)[1], "not recorded")
    finally:
        mp.stop()


def test_micropub_crash_without_post_list():
    """An endpoint that cannot list its posts: after the crash nothing is
    sent again, and the error says how to settle it."""
    mp = Micropub(lists=False)
    try:
        d = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": mp.endpoint, "token_env": "CK_TEST_MP_TOKEN"}})
        crash_between_create_and_record(mp, d)
        r = publish(BIN, d, env=TOKEN_ENV)
        check(r.returncode == 1, f"exit {r.returncode}: {r.stderr}")
        check(len(mp.posts) == 1, f"the crash made {len(mp.posts)} posts")
        check("cannot list its posts" in r.stderr and "published.micropub.url" in r.stderr,
              f"unclear error: {r.stderr}")
        check("mp-secret-token" not in r.stderr + r.stdout, "token leaked into the error")
    finally:
        mp.stop()


def test_recheck_and_announce():
    sim = ckit.Sim(BIN, os.path.join(HERE, "sim-chat.json"), 1, ckit.now_ms() - 2 * 3600 * 1000)
    mp = Micropub()
    try:
        ids = {s["key"]: s["id"] for s in sim.get("/sim/statuses") if s.get("key")}
        msgs = [
            message(ids["a1"], "alice", 1, "A1 Mastodon and the CILIP mailing lists keep me learning", 12),
            message(ids["b1"], "bob", 1, "A1 webinars, mostly free ones", 4),
            # The best-liked answer was deleted after the chat.
            message("99999999999", "dave", 1, "A1 DELETED-LATER answer", 50),
            message(ids["c2"], "carol", 2, "A2 time, and fear of saying the wrong thing", 7,
                    created="2026-12-03T20:22:00Z"),
        ]
        d = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": mp.endpoint, "token_env": "CK_TEST_MP_TOKEN"},
            "announce": True}, platform=sim.base, token_env="CK_TEST_SIM_TOKEN", messages=msgs)
        env = dict(TOKEN_ENV, CK_TEST_SIM_TOKEN="sim-token")
        r = publish(BIN, d, env=env)
        check(r.returncode == 0, f"publish failed: {r.stdout}{r.stderr}")
        deleted = json.load(open(os.path.join(d, "deleted.json")))["deleted"]
        check(deleted == ["99999999999"], f"deleted.json: {deleted}")
        md = open(os.path.join(d, "writeup.md")).read()
        check("DELETED-LATER" not in md, "the deleted post is still quoted")
        check("CILIP" in md and "webinars" in md, "the remaining answers are not quoted")
        html = mp.requests[0]["json"]["properties"]["content"][0]["html"]
        check("DELETED-LATER" not in html, "the deleted post was published")
        looked = [q["path"] for q in sim.get("/sim/requests") if q["method"] == "GET"
                  and q["path"].startswith("/api/v1/statuses/")]
        for i in (ids["a1"], ids["b1"], ids["c2"], "99999999999"):
            check(f"/api/v1/statuses/{i}" in looked, f"status {i} was not re-checked: {looked}")

        ann = state(d)["published"]["announce"]
        posted = sim.get(f"/api/v1/statuses/{ann['id']}")
        check("#uklibchat" in posted["content"] or "uklibchat" in posted["content"], "no hashtag")
        check(f"127.0.0.1:{mp.port}/posts/1" in posted["content"], "announcement lacks the link")
        r = publish(BIN, d, env=env)
        check(r.returncode == 0, f"second publish failed: {r.stderr}")
        check(sim.get("/sim/stats")["posts_created"] == 1, "announced twice")
        check(len(mp.posts) == 1, "second publish created another Micropub post")
    finally:
        mp.stop()
        sim.stop()


def test_imported_and_dry_run():
    mp = Micropub()
    try:
        d = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": mp.endpoint, "token_env": "CK_TEST_MP_TOKEN"},
            "announce": True})
        r = publish(BIN, d, "--dry-run", env=TOKEN_ENV)
        check(r.returncode == 0, f"dry run failed: {r.stderr}")
        check("would create" in r.stdout and mp.endpoint in r.stdout, f"dry run said: {r.stdout}")
        check(not mp.requests, "dry run sent a request")
        check(not os.path.exists(os.path.join(d, "state.json")), "dry run wrote state.json")
        check(not os.path.exists(os.path.join(d, "writeup.md")), "dry run wrote writeup.md")

        r = publish(BIN, d, env=TOKEN_ENV)
        check(r.returncode == 0, f"publish failed: {r.stderr}")
        check("re-check: skipped" in r.stdout and "announce: skipped" in r.stdout,
              f"imported session did not say what it skipped: {r.stdout}")
        r = publish(BIN, d, "--dry-run", env=TOKEN_ENV)
        check("would update" in r.stdout, f"dry run after publishing: {r.stdout}")

        # No publish section: a clear error, exit 2.
        d2 = make_session_dir(os.path.join(tmpdir(), "s"), {})
        os.unlink(os.path.join(d2, "session.json"))
        doc = json.load(open(os.path.join(d, "session.json")))
        del doc["publish"]
        json.dump(doc, open(os.path.join(d2, "session.json"), "w"))
        r = publish(BIN, d2)
        check(r.returncode == 2 and "no \"publish\" section" in r.stderr, r.stderr)
    finally:
        mp.stop()


if __name__ == "__main__":
    name = sys.argv[2]
    sys.exit(ckit.run_tests([globals()[name]]))
