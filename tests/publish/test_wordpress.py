"""Publishing to a real WordPress (Debian's package, MariaDB, PHP's server,
installed and started on loopback by wordpress/wp.sh, stopped at the end).
Usage: test_wordpress.py CHATKEEPER TEST_NAME"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import re

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import ckit  # noqa: E402
from ckit import check  # noqa: E402
from pubkit import make_session_dir, publish, state, tmpdir  # noqa: E402

BIN = sys.argv[1]
WP_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wordpress", "wp.sh")
SLUG = "uklibchat-2026-12-03-online-networks"  # hashtag, local date, title


class WordPress:
    def __init__(self, permalinks="plain", wrap=(), env=None):
        self.root = tempfile.mkdtemp(prefix="ck-wp-")
        e = dict(os.environ)
        e.update(env or {})
        r = subprocess.run([*wrap, WP_SH, "start", self.root, permalinks], capture_output=True,
                           text=True, timeout=120, env=e)
        if r.returncode != 0:
            self.stop()
            raise RuntimeError(f"WordPress did not start: {r.stderr}")
        self.url = r.stdout.strip()
        self.pw_file = os.path.join(self.root, "editor.pw")

    def api(self, route, query="", method="GET", body=None):
        """A REST call as the editor, through ?rest_route= (works either way)."""
        pw = open(self.pw_file).read().strip()
        url = f"{self.url}/?rest_route={route}" + (f"&{query}" if query else "")
        req = urllib.request.Request(url, method=method,
                                     data=json.dumps(body).encode() if body else None)
        req.add_header("Authorization",
                       "Basic " + base64.b64encode(f"editor:{pw}".encode()).decode())
        if body:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def posts(self):
        return self.api("/wp/v2/posts", "status=any&context=edit&per_page=100")

    def stop(self):
        subprocess.run([WP_SH, "stop", self.root], capture_output=True, timeout=60)
        if not os.environ.get("CK_KEEP_WP"):  # set it to look at a failed run's files
            shutil.rmtree(self.root, ignore_errors=True)


def session(wp, session_fields=None, **extra):
    conf = {"url": wp.url, "user": "editor", "password_file": wp.pw_file,
            "categories": ["Chats", "Library & info"], "tags": ["uklibchat", "CPD"]}
    conf.update(extra)
    d = make_session_dir(os.path.join(tmpdir(), "s"), {"wordpress": conf})
    if session_fields:
        path = os.path.join(d, "session.json")
        doc = json.load(open(path))
        doc.update(session_fields)
        json.dump(doc, open(path, "w"), indent=2)
    return d


def test_wordpress_create_update_idempotent():
    wp = WordPress("plain")
    try:
        d = session(wp)
        r = publish(BIN, d)
        check(r.returncode == 0, f"publish failed: {r.stdout}{r.stderr}")
        posts = wp.posts()
        check(len(posts) == 1, f"expected one post, got {len(posts)}")
        p = posts[0]
        check(p["status"] == "draft", f"status {p['status']}")
        check(p["slug"] == SLUG, f"slug {p['slug']}")
        check(p["title"]["raw"].startswith("Online networks: #uklibchat chat"), p["title"]["raw"])
        content = p["content"]["raw"]
        check("How do you use online networks for your CPD?" in content, "question 1 missing")
        check("What stops colleagues from joining in online?" in content, "question 2 missing")
        check("<blockquote>" in content and "CILIP mailing lists" in content, "no highlight")
        check("<b>free</b>" not in content, "raw HTML from a message passed through")
        cats = {c["id"]: c["name"] for c in wp.api("/wp/v2/categories", "per_page=100")}
        tags = {t["id"]: t["name"] for t in wp.api("/wp/v2/tags", "per_page=100")}
        check(sorted(cats[i] for i in p["categories"]) == ["Chats", "Library &amp; info"],
              f"categories {[cats[i] for i in p['categories']]}")
        check(sorted(tags[i] for i in p["tags"]) == ["CPD", "uklibchat"], f"tags {p['tags']}")
        rec = state(d)["published"]["wordpress"]
        check(rec["id"] == p["id"] and rec["slug"] == SLUG, f"state.json: {rec}")
        check(open(wp.pw_file).read().strip() not in r.stdout + r.stderr, "password leaked")

        time.sleep(1.1)  # WordPress's modified time has one-second resolution
        r = publish(BIN, d)
        check(r.returncode == 0, f"second publish failed: {r.stderr}")
        posts2 = wp.posts()
        check(len(posts2) == 1, f"second publish made {len(posts2)} posts")
        check(posts2[0]["id"] == p["id"], "a different post")
        check(posts2[0]["modified_gmt"] != p["modified_gmt"], "the post was not updated")
        check(len(wp.api("/wp/v2/categories", "per_page=100")) == len(cats),
              "categories were created twice")
    finally:
        wp.stop()


def test_wordpress_crash_before_record():
    wp = WordPress("pretty")
    try:
        d = session(wp, status="publish")
        r = publish(BIN, d)
        check(r.returncode == 0, f"publish failed: {r.stdout}{r.stderr}")
        first = wp.posts()
        check(len(first) == 1 and first[0]["status"] == "publish", f"posts: {first}")
        # A crash between "created" and "recorded": state.json lacks it.
        st = state(d)
        del st["published"]
        json.dump(st, open(os.path.join(d, "state.json"), "w"))
        r = publish(BIN, d)
        check(r.returncode == 0, f"publish after crash failed: {r.stderr}")
        check("was not recorded" in r.stderr, f"did not say it found the post: {r.stderr}")
        posts = wp.posts()
        check(len(posts) == 1, f"crash recovery made {len(posts)} posts")
        check(state(d)["published"]["wordpress"]["id"] == first[0]["id"], "recorded another id")

        # An editor's later edit to status is not undone by a draft re-publish.
        d2 = session(wp)
        r = publish(BIN, d2)
        check(r.returncode == 0 and len(wp.posts()) == 1, "a second session dir made a post")
        check(wp.posts()[0]["status"] == "publish", "re-publishing demoted the post to draft")
    finally:
        wp.stop()


def test_wordpress_wrong_password():
    wp = WordPress("plain")
    try:
        d = session(wp)
        bad = os.path.join(d, "bad.pw")
        fd = os.open(bad, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"abcd efgh ijkl mnop qrst uvwx")
        os.close(fd)
        doc = json.load(open(os.path.join(d, "session.json")))
        doc["publish"]["wordpress"]["password_file"] = "bad.pw"
        json.dump(doc, open(os.path.join(d, "session.json"), "w"))
        r = publish(BIN, d)
        check(r.returncode == 1, f"exit {r.returncode}: {r.stderr}")
        check("refused the credentials" in r.stderr and "401" in r.stderr, f"unclear: {r.stderr}")
        check("abcd efgh" not in r.stderr + r.stdout, "password leaked")
        check(len(wp.posts()) == 0, "a post was created with a wrong password")
        check("published" not in state(d), "something recorded as published")

        # A subscriber's valid password: WordPress says 403, we say who may not.
        doc["publish"]["wordpress"].update(user="reader",
                                          password_file=os.path.join(wp.root, "reader.pw"),
                                          categories=[], tags=[])
        json.dump(doc, open(os.path.join(d, "session.json"), "w"))
        r = publish(BIN, d)
        check(r.returncode == 1 and "403" in r.stderr and "reader" in r.stderr,
              f"unclear: {r.stderr}")
        check(len(wp.posts()) == 0, "a subscriber created a post")
    finally:
        wp.stop()


def snapshot(post):
    return (post["title"]["raw"], post["content"]["raw"], post["slug"], post["modified_gmt"])


def by_id(wp):
    return {p["id"]: p for p in wp.posts()}


def test_wordpress_same_day_sessions():
    """Issue 10 item 1: a second chat on the same day, and a rehearsal of the
    first, get posts of their own; the first chat's post is never touched."""
    wp = WordPress("pretty")
    try:
        d1 = session(wp, status="publish")
        r = publish(BIN, d1)
        check(r.returncode == 0, f"publish failed: {r.stdout}{r.stderr}")
        first = wp.posts()
        check(len(first) == 1, f"posts: {first}")
        p1 = first[0]
        time.sleep(1.1)  # modified_gmt has one-second resolution: a change would show

        # Another chat that day, with the same hashtag.
        d2 = session(wp, {"title": "Reading lists", "start": "2026-12-03T12:00"},
                     status="publish")
        r = publish(BIN, d2)
        check(r.returncode == 0, f"second chat: {r.stdout}{r.stderr}")
        check("was not recorded" not in r.stderr, f"took another post for its own: {r.stderr}")
        posts = by_id(wp)
        check(len(posts) == 2, f"the second chat made {len(posts)} posts")
        check(snapshot(posts[p1["id"]]) == snapshot(p1), "the first chat's post was changed")
        p2 = posts[state(d2)["published"]["wordpress"]["id"]]
        check(p2["id"] != p1["id"] and p2["title"]["raw"].startswith("Reading lists"),
              f"second post: {p2['title']}")

        # A rehearsal of the first chat: same title and date, another start.
        d3 = session(wp, {"start": "2026-12-03T18:30"}, status="publish")
        r = publish(BIN, d3)
        check(r.returncode == 0, f"rehearsal: {r.stdout}{r.stderr}")
        posts = by_id(wp)
        check(len(posts) == 3, f"the rehearsal made {len(posts)} posts")
        check(snapshot(posts[p1["id"]]) == snapshot(p1), "the rehearsal changed the chat's post")
        rec3 = state(d3)["published"]["wordpress"]
        p3 = posts[rec3["id"]]
        check(p3["id"] not in (p1["id"], p2["id"]), f"rehearsal recorded post {p3['id']}")
        # WordPress gave it another slug (the first chat's is taken): recorded as it is.
        check(p3["slug"] != p1["slug"] and rec3["slug"] == p3["slug"],
              f"slugs {p1['slug']} {p3['slug']} recorded {rec3['slug']}")

        # Publishing the rehearsal again, and after a crash before the
        # record, finds the rehearsal's own post, not the chat's.
        r = publish(BIN, d3)
        check(r.returncode == 0, f"rehearsal again: {r.stderr}")
        st = state(d3)
        del st["published"]
        json.dump(st, open(os.path.join(d3, "state.json"), "w"))
        r = publish(BIN, d3)
        check(r.returncode == 0 and "was not recorded" in r.stderr,
              f"rehearsal after a crash: {r.stderr}")
        posts = by_id(wp)
        check(len(posts) == 3, f"republishing made {len(posts)} posts")
        check(state(d3)["published"]["wordpress"]["id"] == p3["id"], "recorded another post")
        check(snapshot(posts[p1["id"]]) == snapshot(p1), "the chat's post was changed")
        check(posts[p2["id"]]["title"]["raw"] == p2["title"]["raw"], "the other chat's post")
    finally:
        wp.stop()


def test_wordpress_foreign_post_untouched():
    """A post someone else wrote with our slug, or one state.json points at
    that carries another session's marker, is left alone."""
    wp = WordPress("plain")
    try:
        theirs = wp.api("/wp/v2/posts", method="POST", body={
            "title": "Someone else's post", "content": "<p>Their words.</p>", "slug": SLUG,
            "status": "publish"})
        draft = wp.api("/wp/v2/posts", method="POST", body={
            "title": "Their draft", "content": "<p>Draft words.</p>", "slug": SLUG})
        # The slug every session of the tag on that day had before issue 10.
        dated = wp.api("/wp/v2/posts", method="POST", body={
            "title": "That day's other chat", "content": "<p>Other words.</p>",
            "slug": "uklibchat-2026-12-03", "status": "publish"})
        other = wp.api("/wp/v2/posts", method="POST", body={
            "title": "Another chat", "status": "publish",
            "content": "<p>Theirs.</p><!-- chatkeeper:session=ck-0123456789abcdef -->"})
        before = {p["id"]: snapshot(p) for p in wp.posts()}
        time.sleep(1.1)
        d = session(wp)
        r = publish(BIN, d)
        check(r.returncode == 0, f"publish failed: {r.stdout}{r.stderr}")
        posts = by_id(wp)
        check(len(posts) == 5, f"expected a new post beside the 4 others: {len(posts)}")
        for i in (theirs["id"], draft["id"], dated["id"], other["id"]):
            check(snapshot(posts[i]) == before[i], f"foreign post {i} was changed")
        ours = state(d)["published"]["wordpress"]["id"]
        check(ours not in before, f"recorded a foreign post {ours}")

        # state.json pointing at a post of another session (copied from
        # another session's folder, say): not ours, so not updated.
        st = state(d)
        st["published"]["wordpress"]["id"] = other["id"]
        json.dump(st, open(os.path.join(d, "state.json"), "w"))
        r = publish(BIN, d)
        check(r.returncode == 0, f"publish failed: {r.stdout}{r.stderr}")
        check("not ours" in r.stderr, f"did not say why it left post {other['id']}: {r.stderr}")
        posts = by_id(wp)
        check(len(posts) == 5, f"made {len(posts)} posts")
        check(snapshot(posts[other["id"]]) == before[other["id"]], "the other session's post")
        check(state(d)["published"]["wordpress"]["id"] == ours, "did not find our own post")

        # A record written before posts carried a key names the post (no
        # key in it either): still ours while it has the recorded slug, not
        # once the slug differs.
        d_old = session(wp, {"start": "2026-12-03T09:00"})
        old_rec = {"id": dated["id"], "slug": "uklibchat-2026-12-03-elsewhere"}
        json.dump({"published": {"wordpress": old_rec}}, open(os.path.join(d_old, "state.json"), "w"))
        r = publish(BIN, d_old)
        check(r.returncode == 0 and "not ours" in r.stderr, f"old record: {r.stderr}")
        check(snapshot(by_id(wp)[dated["id"]]) == before[dated["id"]], "changed a foreign post")
        check(state(d_old)["published"]["wordpress"]["id"] not in before, "recorded it anyway")
        old_rec["slug"] = "uklibchat-2026-12-03"
        json.dump({"published": {"wordpress": old_rec}}, open(os.path.join(d_old, "state.json"), "w"))
        r = publish(BIN, d_old)
        check(r.returncode == 0 and "carries no session key" in r.stderr, f"old record: {r.stderr}")
        check(state(d_old)["published"]["wordpress"]["id"] == dated["id"], "not taken over")
        check("chatkeeper:session=ck-" in by_id(wp)[dated["id"]]["content"]["raw"], "no key")
    finally:
        wp.stop()


def test_wordpress_soft_breaks():
    """Issue 10 item 16: a soft line break in the Markdown is a space in the
    post, not a <br /> that WordPress's wpautop made of a newline."""
    wp = WordPress("plain")
    try:
        d = session(wp)
        r = publish(BIN, d)
        check(r.returncode == 0, f"publish failed: {r.stdout}{r.stderr}")
        md = open(os.path.join(d, "writeup.md")).read()
        # The test means something only if the Markdown has a soft break.
        check(re.search(r"questions\.\nIt was hosted", md), f"no soft break in: {md[:400]}")
        p = wp.api(f"/wp/v2/posts/{state(d)['published']['wordpress']['id']}")
        html = p["content"]["rendered"]
        paras = re.findall(r"<p>(.*?)</p>", html, re.S)
        check(paras, f"no paragraphs: {html[:300]}")
        hosted = [x for x in paras if "It was hosted" in x]
        check(len(hosted) == 1 and "people posted" in hosted[0],
              f"a Markdown paragraph was split: {paras}")
        broken = [x for x in paras if "<br" in x]
        check(not broken, f"<br /> inside paragraphs: {broken}")
        check(not re.search(r"<p>\s*(<!--.*?-->)?\s*</p>", html), f"empty paragraph: {html}")
    finally:
        wp.stop()


def test_wordpress_start_failure_shows_error():
    """Issue 10 item 17: a test server that fails to start shows its own
    error, not only the line of wp.sh that failed."""
    t0 = time.time()
    try:
        wp = WordPress("plain", env={"WP_SH_MARIADBD_OPTS": "--no-such-option-for-the-test"})
    except RuntimeError as e:
        msg = str(e)
    else:
        wp.stop()  # it must not outlive the test
        raise ckit.Failure("WordPress started with a broken MariaDB option")
    check("no-such-option-for-the-test" in msg and "unknown" in msg.lower(),
          f"MariaDB's own error is not shown: {msg}")
    check(time.time() - t0 < 60, "waited for a server that had already exited")


SKIPPED = []


def test_wordpress_without_localhost():
    """Issue 10 item 17: the test WordPress starts on a machine whose
    /etc/hosts does not name localhost (here: a private mount namespace with
    such a hosts file bound over /etc/hosts)."""
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    if shutil.which("unshare") is None or subprocess.run(
            [*unshare, "true"], capture_output=True).returncode != 0:
        SKIPPED.append("cannot make a mount namespace here (unshare -m)")
        return
    hosts = os.path.join(tmpdir(), "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 nothing-to-see\n")
    wrap = [*unshare, "sh", "-c",
            'mount --bind "$0" /etc/hosts && ! getent hosts localhost && exec "$@"', hosts]
    wp = WordPress("plain", wrap=wrap)
    try:
        d = session(wp)
        r = publish(BIN, d)
        check(r.returncode == 0, f"publish failed: {r.stdout}{r.stderr}")
        check(len(wp.posts()) == 1, "no post")
    finally:
        wp.stop()


if __name__ == "__main__":
    rc = ckit.run_tests([globals()[sys.argv[2]]])
    if rc == 0 and SKIPPED:
        print("skipped:", "; ".join(SKIPPED))
        sys.exit(77)
    sys.exit(rc)
