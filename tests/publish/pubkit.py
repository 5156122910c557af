"""Fixtures for the publish tests: a session directory as the archive leaves
it (session.json, messages.jsonl, state.json), and a Micropub endpoint that
checks requests the way the W3C specification says."""
import atexit
import json
import os
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

def tmpdir():
    """A temp folder removed when the test ends (CK_KEEP_TMP=1 keeps it)."""
    d = tempfile.mkdtemp(prefix="ck-pub-")
    if not os.environ.get("CK_KEEP_TMP"):
        atexit.register(shutil.rmtree, d, True)
    return d


QUESTIONS = [
    {"at": "5m", "text": "How do you use online networks for your CPD?"},
    {"at": "20m", "text": "What stops colleagues from joining in online?"},
]


def message(mid, who, q, text, likes=0, by="tag", created="2026-12-03T20:07:00Z", boost_of=None):
    return {
        "id": mid, "platform": "mastodon", "url": f"https://glammr.us/@{who}/{mid}",
        "created_at": created,
        "author": {"id": who, "handle": f"@{who}@glammr.us", "name": who.capitalize(),
                   "url": f"https://glammr.us/@{who}"},
        "text": text, "reply_to": None, "boost_of": boost_of, "edited_at": None,
        "counts": {"replies": 0, "boosts": 0, "likes": likes},
        "questions": [q] if q else [], "assigned_by": by,
    }


def default_messages():
    return [
        message("100", "uklibchat", 1, "Q1 " + QUESTIONS[0]["text"], 9, by="question"),
        message("101", "alice", 1, "A1 Mastodon and the CILIP mailing lists keep me learning", 12),
        message("102", "bob", 1, "A1 webinars, mostly <b>free</b> ones", 4),
        message("103", "alice", 1, "A1 also podcasts", 2),
        message("104", "carol", 2, "A2 time, and fear of saying the wrong thing in public", 7,
                created="2026-12-03T20:22:00Z"),
    ]


def make_session_dir(path, publish, *, platform=None, messages=None, imported=True,
                     token_env=None):
    os.makedirs(path, exist_ok=True)
    doc = {
        "title": "Online networks", "hashtag": "uklibchat", "timezone": "Europe/London",
        "start": "2026-12-03T20:00", "duration": "1h", "facilitators": ["@uklibchat@glammr.us"],
        "questions": QUESTIONS, "publish": publish,
    }
    if platform:
        doc["platform"] = {"type": "mastodon", "base_url": platform}
        if token_env:
            doc["platform"]["token_env"] = token_env
        doc["post"] = False
    elif imported:
        doc["imported"] = "mastodon"
    with open(os.path.join(path, "session.json"), "w") as f:
        json.dump(doc, f, indent=2)
    with open(os.path.join(path, "messages.jsonl"), "w") as f:
        for m in messages if messages is not None else default_messages():
            f.write(json.dumps(m) + "\n")
    return path


def write_secret(path, value):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, value.encode())
    os.close(fd)


def publish(binary, d, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([binary, "publish", d, *args], capture_output=True, text=True, env=e,
                          timeout=120)


def state(d):
    p = os.path.join(d, "state.json")
    return json.load(open(p)) if os.path.exists(p) else {}


class Micropub:
    """A Micropub endpoint on 127.0.0.1 that records every request and answers
    only well-formed ones: bearer token, JSON h-entry with name, content
    [{html}] and category (all arrays), or an update action on a known URL."""

    def __init__(self, token="mp-secret-token", broken=False, lists=True):
        """lists: answer q=source without url with the post list (the query
        Indiekit and Micro.blog answer); else 400, as the core spec allows.
        hold (set later): a threading.Event a create waits on after the post
        is made and before the answer goes, so a test can kill the client
        between the two."""
        self.requests, self.problems, self.posts = [], [], {}
        self.hold = None
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, code, body=None, headers=()):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                q = parse_qs(urlsplit(self.path).query)
                outer.requests.append({"path": self.path, "method": "GET",
                                       "auth": self.headers.get("Authorization")})
                if self.headers.get("Authorization") != "Bearer " + token:
                    return self.reply(401, {"error": "unauthorized"})
                if q.get("q") != ["source"]:
                    return self.reply(400, {"error": "invalid_request"})
                if "url" in q:
                    props = outer.posts.get(q["url"][0])
                    if props is None:
                        return self.reply(400, {"error": "invalid_request"})
                    return self.reply(200, {"type": ["h-entry"], "properties": props})
                if not lists:
                    return self.reply(400, {"error": "invalid_request",
                                            "error_description": "url is required"})
                items = [{"type": ["h-entry"], "properties": dict(p, url=[u])}
                         for u, p in reversed(list(outer.posts.items()))]
                limit = int(q.get("limit", ["20"])[0])
                return self.reply(200, {"items": items[:limit]})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                req = {"path": self.path, "auth": self.headers.get("Authorization"),
                       "type": self.headers.get("Content-Type"), "raw": raw}
                outer.requests.append(req)
                if broken:
                    page = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
                    self.send_response(500)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                if req["auth"] != "Bearer " + token:
                    return self.reply(401, {"error": "unauthorized",
                                            "error_description": "bad token"})
                if not (req["type"] or "").startswith("application/json"):
                    outer.problems.append("content type " + str(req["type"]))
                    return self.reply(400, {"error": "invalid_request"})
                try:
                    body = json.loads(raw)
                except ValueError:
                    outer.problems.append("body is not JSON")
                    return self.reply(400, {"error": "invalid_request"})
                req["json"] = body
                if body.get("action") == "update":
                    url = body.get("url")
                    rep = body.get("replace")
                    if url not in outer.posts or not isinstance(rep, dict) or not all(
                            isinstance(v, list) for v in rep.values()):
                        outer.problems.append("bad update " + json.dumps(body)[:200])
                        return self.reply(400, {"error": "invalid_request"})
                    outer.posts[url].update(rep)
                    return self.reply(204)
                props = body.get("properties", {})
                ok = (body.get("type") == ["h-entry"] and isinstance(props, dict)
                      and all(isinstance(v, list) for v in props.values())
                      and isinstance(props.get("name", [None])[0], str)
                      and isinstance(props.get("content", [{}])[0].get("html"), str)
                      and all(isinstance(c, str) for c in props.get("category", [])))
                if not ok:
                    outer.problems.append("bad h-entry " + json.dumps(body)[:200])
                    return self.reply(400, {"error": "invalid_request"})
                url = f"http://127.0.0.1:{outer.port}/posts/{len(outer.posts) + 1}"
                outer.posts[url] = props
                if outer.hold is not None:
                    outer.hold.wait(60)
                # A relative Location: the client must resolve it.
                return self.reply(201, None, [("Location", url.split(str(outer.port))[1])])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}/micropub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
