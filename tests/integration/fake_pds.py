"""A small Bluesky PDS + AppView for tests, on 127.0.0.1 and a free port:
createSession, refreshSession, searchPosts, getPostThread, createRecord and
getRecord, with real JWT-shaped tokens that run out, ratelimit-* headers,
posts indexed late, replies without the hashtag under the run's questions,
and a fault that stores a record and then holds its answer back (so a test
can kill the client between intent and answer).

Times: posts by others carry created times on the chat's clock (start +
(wall - start) * speed), as the simulator's statuses do under --speed."""
import base64
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DID = "did:plc:chatkeepertest000000000"
HANDLE = "chatkeeper.test"


def iso(ms):
    t = time.gmtime(ms / 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (ms % 1000)


def parse_iso(s):
    s = s.rstrip("Z")
    frac = 0
    if "." in s:
        s, f = s.split(".", 1)
        frac = int((f + "000")[:3])
    return int(time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%S")) - time.timezone) * 1000 + frac


def b64(d):
    return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")


class FakePDS:
    def __init__(self, *, start_ms, speed=1, password="app-pass-1234", access_life_s=8,
                 lie_about_exp=False, hold_first_creates=0, create_faults=(),
                 hashtag="uklibchat",
                 others=None):
        self.start_ms, self.speed, self.password = start_ms, speed, password
        self.access_life_s, self.lie = access_life_s, lie_about_exp
        self.hold = hold_first_creates
        # Per createRecord in turn: "drop" answers 502 and stores nothing,
        # "lose" stores the record and answers 502 all the same.
        self.faults = list(create_faults)
        self.tag = hashtag.lower()
        self.lock = threading.Lock()
        self.stats = {"createSession": 0, "refreshSession": 0, "searchPosts": 0,
                      "getPostThread": 0, "createRecord": 0, "getRecord": 0,
                      "expired_answers": 0, "unauthorised": 0, "duplicate_rkey": 0}
        self.issued = []          # every token handed out (none may leak)
        self.valid_access = {}    # token -> real expiry (ms)
        self.valid_refresh = set()
        self.posts = {}           # uri -> post view (with "_visible_ms")
        self.records = {}         # rkey -> (uri, cid, record)
        self.created = []         # rkeys in order
        self.held = threading.Event()  # set when a held create stored its record
        self.seq = 0
        for o in others or []:
            self._add_other(**o)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    # ---- the chat's clock ----
    def chat_ms(self, wall_ms):
        return self.start_ms + int((wall_ms - self.start_ms) * self.speed)

    def wall_ms(self, chat_ms):
        return self.start_ms + int((chat_ms - self.start_ms) / self.speed)

    def _view(self, did, handle, rkey, record, visible_ms):
        self.seq += 1
        uri = "at://%s/app.bsky.feed.post/%s" % (did, rkey)
        view = {"uri": uri, "cid": "bafyfake%06d" % self.seq,
                "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0]},
                "record": record, "replyCount": 0, "repostCount": 0, "likeCount": 0,
                "quoteCount": 0, "indexedAt": iso(visible_ms), "labels": [],
                "_visible_ms": visible_ms}
        self.posts[uri] = view
        return view

    def _add_other(self, *, n, at_chat_ms, text, index_delay_ms=0):
        did = "did:plc:person%020d" % n
        rec = {"$type": "app.bsky.feed.post", "text": text, "createdAt": iso(at_chat_ms)}
        self._view(did, "person%d.bsky.social" % n, "3lother%06d" % n, rec,
                   self.wall_ms(at_chat_ms) + index_delay_ms)

    # ---- tokens ----
    def _jwt(self, scope, life_s, claimed_s):
        exp = int(time.time()) + claimed_s
        tok = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NksifQ." + b64(
            {"scope": scope, "sub": DID, "exp": exp, "jti": "%d-%f" % (len(self.issued),
                                                                     time.time())}) + ".c2ln"
        self.issued.append(tok)
        return tok

    def _session(self):
        claimed = 3600 if self.lie else self.access_life_s
        acc = self._jwt("com.atproto.access", self.access_life_s, claimed)
        ref = self._jwt("com.atproto.refresh", 86400, 86400)
        self.valid_access[acc] = time.time() * 1000 + self.access_life_s * 1000
        self.valid_refresh.add(ref)
        return {"accessJwt": acc, "refreshJwt": ref, "did": DID, "handle": HANDLE, "active": True}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def snapshot(self):
        with self.lock:
            return dict(self.stats)

    # ---- the server ----
    def _handler(pds):
        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self, code, doc):
                body = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ratelimit-limit", "3000")
                self.send_header("ratelimit-remaining", "2990")
                self.send_header("ratelimit-reset", str(int(time.time()) + 300))
                self.send_header("ratelimit-policy", "3000;w=300")
                self.end_headers()
                self.wfile.write(body)

            def bearer(self):
                a = self.headers.get("Authorization", "")
                return a[7:] if a.startswith("Bearer ") else None

            def authed(self):
                tok = self.bearer()
                exp = pds.valid_access.get(tok)
                if exp is None:
                    pds.stats["unauthorised"] += 1
                    self.answer(401, {"error": "AuthenticationRequired",
                                      "message": "Authentication Required"})
                    return False
                if time.time() * 1000 > exp:
                    pds.stats["expired_answers"] += 1
                    self.answer(400, {"error": "ExpiredToken", "message": "Token has expired"})
                    return False
                return True

            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                name = u.path.rsplit("/", 1)[-1]
                if u.path == "/sim/stats":
                    return self.answer(200, pds.snapshot())
                with pds.lock:
                    short = name.rsplit(".", 1)[-1]
                    if short in pds.stats:
                        pds.stats[short] += 1
                    if not self.authed():
                        return
                    if name == "app.bsky.feed.searchPosts":
                        return self.search(q)
                    if name == "app.bsky.feed.getPostThread":
                        return self.thread(q)
                    if name == "com.atproto.repo.getRecord":
                        return self.get_record(q)
                self.answer(404, {"error": "MethodNotImplemented"})

            def search(self, q):
                now = time.time() * 1000
                tag = "#" + pds.tag
                since = parse_iso(q["since"]) if "since" in q else None
                until = parse_iso(q["until"]) if "until" in q else None
                hits = []
                for v in pds.posts.values():
                    t = parse_iso(v["record"]["createdAt"])
                    if v["_visible_ms"] > now or tag not in v["record"]["text"].lower():
                        continue
                    if (since is not None and t < since) or (until is not None and t > until):
                        continue
                    hits.append((t, v["uri"], v))
                hits.sort(reverse=True)
                off = int(q.get("cursor", "0"))
                lim = int(q.get("limit", "25"))
                page = [dict((k, x) for k, x in v.items() if not k.startswith("_"))
                        for _, _, v in hits[off:off + lim]]
                doc = {"posts": page, "hitsTotal": len(hits)}
                if off + lim < len(hits):
                    doc["cursor"] = str(off + lim)
                self.answer(200, doc)

            def thread(self, q):
                root = pds.posts.get(q.get("uri"))
                if root is None:
                    return self.answer(400, {"error": "NotFound", "message": "Post not found"})
                now = time.time() * 1000

                def node(v):
                    kids = [node(c) for c in pds.posts.values()
                            if c["_visible_ms"] <= now and
                            c["record"].get("reply", {}).get("parent", {}).get("uri") == v["uri"]]
                    clean = dict((k, x) for k, x in v.items() if not k.startswith("_"))
                    return {"$type": "app.bsky.feed.defs#threadViewPost", "post": clean,
                            "replies": kids}
                self.answer(200, {"thread": node(root)})

            def get_record(self, q):
                if q.get("repo") != DID or q.get("collection") != "app.bsky.feed.post":
                    return self.answer(400, {"error": "InvalidRequest", "message": "bad repo"})
                r = pds.records.get(q.get("rkey"))
                if r is None:
                    return self.answer(400, {"error": "RecordNotFound",
                                             "message": "Could not locate record"})
                self.answer(200, {"uri": r[0], "cid": r[1], "value": r[2]})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n) or b"{}")
                name = urllib.parse.urlparse(self.path).path.rsplit("/", 1)[-1]
                hold = False
                with pds.lock:
                    short = name.rsplit(".", 1)[-1]
                    if short in pds.stats:
                        pds.stats[short] += 1
                    if name == "com.atproto.server.createSession":
                        if body.get("identifier") != HANDLE or body.get("password") != pds.password:
                            return self.answer(401, {"error": "AuthenticationRequired",
                                                     "message": "Invalid identifier or password"})
                        return self.answer(200, pds._session())
                    if name == "com.atproto.server.refreshSession":
                        tok = self.bearer()
                        if tok not in pds.valid_refresh:
                            return self.answer(400, {"error": "ExpiredToken",
                                                     "message": "Token has expired"})
                        pds.valid_refresh.discard(tok)
                        return self.answer(200, pds._session())
                    if name != "com.atproto.repo.createRecord":
                        return self.answer(404, {"error": "MethodNotImplemented"})
                    if not self.authed():
                        return
                    rkey = body.get("rkey")
                    rec = body.get("record") or {}
                    if body.get("repo") != DID or not rkey or rec.get("$type") != "app.bsky.feed.post":
                        return self.answer(400, {"error": "InvalidRequest", "message": "bad"})
                    fault = pds.faults.pop(0) if pds.faults else None
                    if fault == "drop":
                        return self.answer(502, {"error": "BadGateway", "message": "dropped"})
                    if rkey in pds.records:
                        pds.stats["duplicate_rkey"] += 1
                        return self.answer(400, {"error": "InvalidRequest",
                                                 "message": "Record already exists"})
                    now = int(time.time() * 1000)
                    view = pds._view(DID, HANDLE, rkey, rec, now)
                    pds.records[rkey] = (view["uri"], view["cid"], rec)
                    pds.created.append(rkey)
                    parent = rec.get("reply", {}).get("parent", {}).get("uri")
                    if parent in pds.posts:
                        pds.posts[parent]["replyCount"] += 1
                    if rec.get("text", "").startswith("Q1 "):
                        # Someone answers the first question without the hashtag.
                        reply = {"$type": "app.bsky.feed.post", "text": "An answer without the tag",
                                 "createdAt": iso(pds.chat_ms(now + 500)),
                                 "reply": {"root": {"uri": view["uri"], "cid": view["cid"]},
                                           "parent": {"uri": view["uri"], "cid": view["cid"]}}}
                        pds._view("did:plc:replier000000000000000", "replier.bsky.social",
                                  "3lreplyaaaaa2", reply, now + 500)
                        view["replyCount"] += 1
                    answer = {"uri": view["uri"], "cid": view["cid"]}
                    if fault == "lose":
                        return self.answer(502, {"error": "BadGateway",
                                                 "message": "upstream went away"})
                    if pds.hold > 0:
                        pds.hold -= 1
                        hold = True
                if hold:
                    pds.held.set()
                    time.sleep(30)  # the client is killed meanwhile
                self.answer(200, answer)
        return H
