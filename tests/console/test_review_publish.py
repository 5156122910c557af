"""The review page's "publish" button (issue 16), over the console's HTTP
interface, against the Micropub endpoint the publish tests use (pubkit, on
127.0.0.1): the first press publishes once and answers with the URL, the
second answers "already published at URL" and sends nothing; a refused token
is answered with the error and nothing is recorded.

usage: test_review_publish.py CHATKEEPER"""
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "publish"))
sys.path.insert(0, HERE)
from pubkit import Micropub, make_session_dir, state, tmpdir  # noqa: E402

BIN = sys.argv[1]
sys.argv[2:] = ["-", "-"]  # test_console's module reads SESSION and SCRIPT
from test_console import FAILS, Console, check, read_url  # noqa: E402


def review(d, env):
    e = dict(os.environ)
    e.update(env)
    return subprocess.Popen([BIN, "review", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=e)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def main():
    mp = Micropub()
    bad = Micropub(token="another-token")
    try:
        d = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": mp.endpoint, "token_env": "CK_TEST_MP_TOKEN"}})
        proc = review(d, {"CK_TEST_MP_TOKEN": "mp-secret-token"})
        try:
            con = Console(read_url(proc, []))
            s = con.state()
            check(s["mode"] == "review" and s["publishable"] and s["published"] == [],
                  "the review says it can publish and has not yet")
            st, msg = con.control({"action": "publish"})
            url = f"http://127.0.0.1:{mp.port}/posts/1"
            check(st == 200 and url in msg, f"publish: 200 with the URL ({st} {msg})")
            check(len(mp.posts) == 1 and len(mp.requests) == 1 and not mp.problems,
                  f"one post was made ({len(mp.requests)} requests, {mp.problems})")
            check(state(d).get("published", {}).get("micropub", {}).get("url") == url,
                  "the post is recorded in state.json (publish's exactly-once record)")
            check(con.state()["published"] == [{"target": "micropub", "url": url}],
                  "the page shows where it was published")
            st, msg = con.control({"action": "publish"})
            check(st == 409 and "already published at " + url in msg,
                  f"a second press answers 'already published at URL' ({st} {msg})")
            check(len(mp.requests) == 1, f"and sends nothing ({len(mp.requests)} requests)")
        finally:
            check(stop(proc) == 0, "review stops on SIGTERM")

        d2 = make_session_dir(os.path.join(tmpdir(), "s"), {
            "micropub": {"endpoint": bad.endpoint, "token_env": "CK_TEST_MP_TOKEN"}})
        proc = review(d2, {"CK_TEST_MP_TOKEN": "mp-secret-token"})
        try:
            con = Console(read_url(proc, []))
            st, msg = con.control({"action": "publish"})
            check(st == 502 and "401" in msg and "mp-secret-token" not in msg,
                  f"a refused token: the error, and no secret ({st} {msg})")
            check("published" not in state(d2), "nothing is recorded")
            check(con.state()["published"] == [], "the page shows nothing published")
        finally:
            check(stop(proc) == 0, "review stops on SIGTERM")

        d3 = make_session_dir(os.path.join(tmpdir(), "s"), None)
        with open(os.path.join(d3, "session.json")) as f:
            doc = json.load(f)
        del doc["publish"]
        with open(os.path.join(d3, "session.json"), "w") as f:
            json.dump(doc, f)
        proc = review(d3, {})
        try:
            con = Console(read_url(proc, []))
            check(not con.state()["publishable"], "without a publish section the page says so")
            st, msg = con.control({"action": "publish"})
            check(st == 400 and "publish" in msg, f"and the button answers why ({st} {msg})")
        finally:
            check(stop(proc) == 0, "review stops on SIGTERM")
    finally:
        mp.stop()
        bad.stop()
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
