#!/usr/bin/env python3
"""Integration test for `chatkeeper simulate`: runs the real binary on a free
port and checks the Mastodon API subset it serves (paging, Link headers,
visibility in time, rate limits, posting with Idempotency-Key, faults).

usage: test_sim_api.py CHATKEEPER SCRIPT [TEST ...]"""
import datetime
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN, SCRIPT = sys.argv[1], sys.argv[2]


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Sim:
    def __init__(self, *args):
        self.dir = tempfile.TemporaryDirectory()
        pf = os.path.join(self.dir.name, "port")
        self.proc = subprocess.Popen([BIN, "simulate", SCRIPT, "--port", "0", "--port-file", pf]
                                     + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while not os.path.exists(pf):
            if self.proc.poll() is not None or time.time() > deadline:
                self.close()
                raise AssertionError("simulator did not start: %r" % (self.proc.stderr.read(),))
            time.sleep(0.02)
        self.port = int(open(pf).read())
        line = self.proc.stdout.readline().decode()
        assert line == "listening on http://127.0.0.1:%d\n" % self.port, line

    def request(self, method, path, body=None, headers=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def get(self, path, **kw):
        st, h, data = self.request("GET", path, **kw)
        return st, h, json.loads(data)

    def tag(self, query="", tag="uklibchat"):
        return self.get("/api/v1/timelines/tag/%s%s" % (tag, query))

    def statuses(self):
        return self.get("/sim/statuses")[2]

    def stats(self):
        return self.get("/sim/stats")[2]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("simulator ignored SIGTERM")
            assert rc == 0, "simulator exited %d: %r" % (rc, self.proc.stderr.read())
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.dir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def num(i):
    return (len(i), i)


def links(h):
    out = {}
    for m in re.finditer(r'<([^>]+)>; rel="(\w+)"', h.get("link", "")):
        out[m.group(2)] = m.group(1)
    return out


def path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + "?" + u.query


def test_paging():
    now = int(time.time() * 1000)
    with Sim("--start", iso(now - 3 * 3600 * 1000)) as sim:
        allst = sim.statuses()
        tagged = sorted((s["id"] for s in allst if s["has_hashtag"]), key=num)
        assert len(allst) >= 220 and len(tagged) > 200, len(tagged)
        st, h, page = sim.tag()
        assert st == 200
        ids = [s["id"] for s in page]
        assert ids == tagged[::-1][:20], "default page is the 20 newest, newest first"
        for s in page:
            assert s["created_at"].endswith("Z") and s["reblog"] is None and s["account"]["acct"]
        ln = links(h)
        assert set(ln) == {"next", "prev"}, h.get("link")
        assert ln["next"].endswith("max_id=" + ids[-1]) and ln["prev"].endswith("min_id=" + ids[0])
        assert ln["next"].startswith("http://127.0.0.1:%d/api/v1/timelines/tag/" % sim.port)
        # Follow rel=next to the end: every tagged status exactly once, in order.
        seen, nxt = list(ids), path_of(ln["next"])
        while True:
            st, h, page = sim.get(nxt)
            assert st == 200
            if not page:
                assert "link" not in h, "no Link on an empty page"
                break
            seen += [s["id"] for s in page]
            nxt = path_of(links(h)["next"])
        assert seen == tagged[::-1]
        # limit is capped at 40
        assert len(sim.tag("?limit=100")[2]) == 40
        assert len(sim.tag("?limit=7")[2]) == 7
        # min_id: the ones immediately newer, newest first
        cur = tagged[50]
        got = [s["id"] for s in sim.tag("?min_id=%s&limit=5" % cur)[2]]
        assert got == tagged[51:56][::-1], (got, tagged[51:56])
        # since_id: the newest ones above since_id
        got = [s["id"] for s in sim.tag("?since_id=%s&limit=5" % cur)[2]]
        assert got == tagged[::-1][:5]
        # max_id: older than
        got = [s["id"] for s in sim.tag("?max_id=%s&limit=3" % cur)[2]]
        assert got == tagged[47:50][::-1]
        # a cursor between ids, and max_id with since_id together
        got = [s["id"] for s in sim.tag("?max_id=%s&since_id=%s" % (tagged[10], tagged[6]))[2]]
        assert got == tagged[7:10][::-1]
        assert sim.tag("?min_id=" + tagged[-1])[2] == []
        # tag is case-insensitive; other tags are empty; untagged statuses never appear
        assert [s["id"] for s in sim.tag(tag="UKLibChat")[2]] == tagged[::-1][:20]
        assert sim.tag(tag="critlib")[2] == []
        untagged = [s["id"] for s in allst if not s["has_hashtag"]]
        assert untagged and not set(untagged) & set(seen)
        # ...but they show in a thread's context
        child = next(s for s in allst if not s["has_hashtag"] and s["in_reply_to_id"])
        st, _, ctx = sim.get("/api/v1/statuses/%s/context" % child["in_reply_to_id"])
        assert st == 200 and child["id"] in [d["id"] for d in ctx["descendants"]]
        st, _, ctx = sim.get("/api/v1/statuses/%s/context" % child["id"])
        assert ctx["ancestors"][-1]["id"] == child["in_reply_to_id"]
        # 404 for an unknown status
        st, _, body = sim.get("/api/v1/statuses/12345")
        assert st == 404 and body == {"error": "Record not found"}
        # no faults without --faults
        stats = sim.stats()
        assert sum(stats["faults"].values()) == 0, stats
        assert all(r["fault"] is None for r in sim.get("/sim/requests")[2])


def test_visibility():
    # Place the clock so one status with a 40s visible_delay is created in ~1.5s
    # and shows ~4s (at --speed 10) after that.
    probe = Sim("--speed", "10")
    try:
        g4 = next(s for s in probe.statuses() if s["key"] == "g4")
        offset = (g4["created_ms"] - probe.stats()["start_ms"])
    finally:
        probe.close()
    now = int(time.time() * 1000)
    start = now - offset + 1500
    with Sim("--speed", "10", "--start", iso(start)) as sim:
        g4 = next(s for s in sim.statuses() if s["key"] == "g4")
        assert g4["visible_ms"] - g4["created_ms"] == 4000, g4
        assert sim.get("/api/v1/statuses/" + g4["id"])[0] == 404, "not yet visible"
        # wait until after its creation but before it shows
        time.sleep(max(0, (g4["created_ms"] + 1500) / 1000 - time.time()))
        st, _, page = sim.tag()
        now = sim.stats()["now_ms"]
        vis = {s["id"]: s["visible_ms"] for s in sim.statuses()}
        assert all(vis[s["id"]] <= now for s in page), "only visible statuses"
        assert g4["id"] not in [s["id"] for s in page]
        assert sim.get("/api/v1/statuses/" + g4["id"])[0] == 404
        cursor = page[0]["id"]
        assert num(cursor) > num(g4["id"]), "a newer status is visible already"
        time.sleep(max(0, (g4["visible_ms"] + 200) / 1000 - time.time()))
        assert sim.get("/api/v1/statuses/" + g4["id"])[0] == 200
        # it landed below the cursor: min_id paging misses it, a backwards sweep finds it
        fwd = [s["id"] for s in sim.tag("?min_id=" + cursor)[2]]
        assert g4["id"] not in fwd
        back = [s["id"] for s in sim.tag("?limit=40")[2]]
        assert g4["id"] in back


def test_rate_limit():
    with Sim("--rate-limit", "5", "--rate-window", "1h") as sim:
        for i in range(5):
            st, h, _ = sim.tag()
            assert st == 200
            assert h["x-ratelimit-limit"] == "5"
            assert h["x-ratelimit-remaining"] == str(4 - i), h
            reset = datetime.datetime.strptime(h["x-ratelimit-reset"], "%Y-%m-%dT%H:%M:%S.%fZ")
            assert reset > datetime.datetime.utcnow()
        st, h, body = sim.get("/api/v2/instance")
        assert st == 429 and body == {"error": "Too many requests"}
        assert h["x-ratelimit-remaining"] == "0" and "x-ratelimit-reset" in h
        assert 0 < int(h["retry-after"]) <= 3600
        assert sim.stats()["rate_limited"] == 1, "inspection is not limited"


def test_bluesky_over_http():
    """The Bluesky side over HTTP (issue 11): sign in, search with the token,
    ratelimit-* headers as bsky.social sends them, XRPC errors, the same
    429 budget as the Mastodon side."""
    with Sim("--rate-limit", "3", "--rate-window", "5m") as sim:
        st, h, body = sim.get("/xrpc/app.bsky.feed.searchPosts?tag=uklibchat&q=%23uklibchat")
        assert st == 401 and body["error"] == "AuthMissing", (st, body)
        assert h["ratelimit-limit"] == "3" and h["ratelimit-remaining"] == "2", h
        assert h["ratelimit-policy"] == "3;w=300", h
        assert int(h["ratelimit-reset"]) > time.time(), h
        assert "x-ratelimit-limit" not in h
        st, h, data = sim.request("POST", "/xrpc/com.atproto.server.createSession",
                                  body=json.dumps({"identifier": "host.bsky.social",
                                                   "password": "app-pass"}),
                                  headers={"Content-Type": "application/json"})
        sess = json.loads(data)
        assert st == 200 and sess["accessJwt"].count(".") == 2 and sess["did"].startswith("did:plc:")
        st, h, body = sim.get("/xrpc/app.bsky.feed.searchPosts?q=%23uklibchat&sort=latest&limit=3",
                              headers={"Authorization": "Bearer " + sess["accessJwt"]})
        assert st == 200 and isinstance(body["posts"], list), body
        st, h, body = sim.get("/xrpc/com.atproto.repo.getRecord?repo=x&collection=y&rkey=z")
        assert st == 429 and body["error"] == "RateLimitExceeded", (st, body)
        assert h["ratelimit-remaining"] == "0"
        assert sim.stats()["bsky_sessions"] == 1


def test_post():
    with Sim("--speed", "60") as sim:
        form = "status=" + urllib.parse.quote("Q1 test from the run sheet #uklibchat")
        ctype = {"Content-Type": "application/x-www-form-urlencoded"}
        st, _, body = sim.request("POST", "/api/v1/statuses", form, ctype)
        assert st == 401 and json.loads(body) == {"error": "The access token is invalid"}
        auth = dict(ctype, Authorization="Bearer sekrit", **{"Idempotency-Key": "q1-abc"})
        st, _, a = sim.request("POST", "/api/v1/statuses", form, auth)
        st2, _, b = sim.request("POST", "/api/v1/statuses", form, auth)
        assert st == 200 and st2 == 200
        a, b = json.loads(a), json.loads(b)
        assert a["id"] == b["id"] and a["account"]["acct"] == "uklibchat"
        assert "#<span>uklibchat</span>" in a["content"]
        stats = sim.stats()
        assert stats["posts_created"] == 1 and stats["idempotent_replays"] == 1
        assert a["id"] in [s["id"] for s in sim.tag()[2]]
        posted = [s for s in sim.statuses() if s["posted"]]
        assert [s["id"] for s in posted] == [a["id"]]
        # JSON body, a reply, no hashtag: not in the tag timeline but in the context
        st, _, c = sim.request("POST", "/api/v1/statuses",
                               json.dumps({"status": "thanks!", "in_reply_to_id": a["id"]}),
                               {"Content-Type": "application/json", "Authorization": "Bearer x"})
        c = json.loads(c)
        assert st == 200 and c["in_reply_to_id"] == a["id"]
        assert c["id"] not in [s["id"] for s in sim.tag()[2]]
        assert num(c["id"]) > num(a["id"])
        ctx = sim.get("/api/v1/statuses/%s/context" % a["id"])[2]
        assert [d["id"] for d in ctx["descendants"]] == [c["id"]]
        st, _, _ = sim.request("POST", "/api/v1/statuses", "status=%20",
                               dict(ctype, Authorization="Bearer x"))
        assert st == 422
        assert sim.stats()["posts_created"] == 2
        st, _, me = sim.get("/api/v1/accounts/verify_credentials")
        assert st == 401
        st, _, me = sim.get("/api/v1/accounts/verify_credentials",
                            headers={"Authorization": "Bearer x"})
        assert st == 200 and me["acct"] == "uklibchat"
        st, _, inst = sim.get("/api/v2/instance")
        assert inst["configuration"]["statuses"]["max_characters"] == 500
        assert inst["version"] == "4.3.0-sim"


def test_faults():
    with Sim("--faults", "0.5", "--seed", "7", "--start",
             iso(int(time.time() * 1000) - 3 * 3600 * 1000)) as sim:
        kinds = {"ok": 0, "5xx": 0, "dropped": 0, "malformed": 0}
        for _ in range(40):
            try:
                st, h, data = sim.request("GET", "/api/v1/timelines/tag/uklibchat?limit=5")
            except (http.client.HTTPException, ConnectionError):
                kinds["dropped"] += 1
                continue
            if st >= 500:
                kinds["5xx"] += 1
                continue
            assert st == 200 and "x-ratelimit-remaining" in h
            try:
                json.loads(data)
                kinds["ok"] += 1
            except ValueError:
                kinds["malformed"] += 1
        assert all(kinds.values()), kinds
        stats = sim.stats()
        f = stats["faults"]
        assert f["drop"] == kinds["dropped"] and f["truncate"] == kinds["malformed"], (f, kinds)
        assert f["slow"] > 0 and f["late_visible"] > 0
        assert any(s["late"] for s in sim.statuses())
        reqs = [r for r in sim.get("/sim/requests")[2] if r["path"].startswith("/api/")]
        assert len(reqs) == 40 and sum(r["fault"] is not None for r in reqs) == 40 - kinds["ok"] + f["slow"]
        # Posting through faults with a stable Idempotency-Key: each post exactly once.
        keys = 0
        while keys < 12 or sim.stats()["faults"]["5xx_after_post"] == 0:
            keys += 1
            assert keys < 60, "no 5xx-after-post fault met"
            first_id = None
            for attempt in range(30):
                try:
                    st, _, data = sim.request(
                        "POST", "/api/v1/statuses", "status=post%%20%d%%20%%23uklibchat" % keys,
                        {"Authorization": "Bearer x", "Idempotency-Key": "k%d" % keys,
                         "Content-Type": "application/x-www-form-urlencoded"})
                except (http.client.HTTPException, ConnectionError):
                    continue
                if st == 200:
                    first_id = json.loads(data)["id"]
                    break
            assert first_id is not None
        stats = sim.stats()
        assert stats["posts_created"] == keys, stats
        assert len([s for s in sim.statuses() if s["posted"]]) == keys
        assert stats["idempotent_replays"] >= stats["faults"]["5xx_after_post"] > 0


def test_bad_args():
    for args in (["--port", "0"], [SCRIPT], [SCRIPT, "--port", "x"],
                 [SCRIPT, "--port", "0", "--faults", "2"], [SCRIPT, "--port", "0", "--bogus", "1"],
                 [SCRIPT, "--port", "0", "--start", "tomorrow"]):
        r = subprocess.run([BIN, "simulate"] + args, capture_output=True, timeout=10)
        assert r.returncode == 2 and b"usage" in r.stderr, (args, r)
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.json")
        with open(bad, "w") as f:
            f.write('{"hashtag": "x",\n "self": oops}')
        r = subprocess.run([BIN, "simulate", bad, "--port", "0"], capture_output=True, timeout=10)
        assert r.returncode == 2 and (bad + ":2:").encode() in r.stderr, r


TESTS = [test_bad_args, test_paging, test_rate_limit, test_post, test_visibility, test_faults,
         test_bluesky_over_http]

if __name__ == "__main__":
    chosen = [t for t in TESTS if len(sys.argv) <= 3 or t.__name__ in sys.argv[3:]]
    failed = 0
    for t in chosen:
        t0 = time.time()
        try:
            t()
            print("ok   %s (%.1fs)" % (t.__name__, time.time() - t0))
        except Exception as e:  # report and go on with the next test
            failed += 1
            import traceback
            traceback.print_exc()
            print("FAIL %s: %r" % (t.__name__, e))
    print("%d passed, %d failed" % (len(chosen) - failed, failed))
    sys.exit(1 if failed else 0)
