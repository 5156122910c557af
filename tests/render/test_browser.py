"""transcript.html in a real browser (headless Chromium) at a phone's width.

Builds a session directory with the real binary (`chatkeeper import` of
Mastodon statuses written here: a long unbroken word, a long link, a reply
chain deeper than the transcript nests, right-to-left text, and images, one of
them 2,400 pixels wide, served from a server on 127.0.0.1), then loads its
transcript.html, once with
the light and once with the dark colour scheme, emulating a phone 390 CSS
pixels wide (over the DevTools protocol), and reads what a probe script
measures in the page:
  - nothing is wider than the screen (the page does not scroll sideways),
    with every image loaded (the probe makes them eager);
  - the dark scheme changes the page's background to a dark one and the
    text to a light one;
and the same for the session's writeup.html and the archive's index.html.
The browser may reach 127.0.0.1 only (every other name resolves to nothing).
Set CK_SCREENSHOTS=DIR to also get screenshots of both, to look at.
Skips (exit 77) when chromium is not installed: it must be among the test
dependencies (Debian package chromium).

usage: test_browser.py CHATKEEPER"""
import base64
import html
import http.server
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

BIN = sys.argv[1]
FAILS = []
WIDTH = 390


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def png(width, height):
    """A solid PNG of the given size, from the standard library."""
    raw = b"".join(b"\x00" + b"\x3b\x6e\xa5" * width for _ in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Images(http.server.BaseHTTPRequestHandler):
    BODY = {"/wide.png": png(2400, 300), "/small.png": png(64, 64)}

    def do_GET(self):
        body = self.BODY.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def status(sid, minute, acct, text, reply_to=None, media=()):
    return {
        "id": sid, "created_at": f"2026-12-03T20:{minute:02d}:00.000Z",
        "url": f"https://example.social/@{acct}/{sid}", "uri": f"https://example.social/s/{sid}",
        "content": f"<p>{html.escape(text)}</p>", "in_reply_to_id": reply_to, "reblog": None,
        "media_attachments": [{"type": "image", "description": alt, "url": url}
                              for alt, url in media],
        "edited_at": None, "replies_count": 0, "reblogs_count": 0, "favourites_count": 3,
        "account": {"id": "acc-" + acct, "acct": acct, "username": acct,
                    "display_name": acct.title(), "url": f"https://example.social/@{acct}"},
    }


def build(tmp, base):
    sess = os.path.join(tmp, "session.json")
    with open(sess, "w", encoding="utf-8") as f:
        json.dump({"title": "A chat read on a phone, with a rather long title to wrap",
                   "hashtag": "phonechat", "timezone": "Europe/London",
                   "start": "2026-12-03T20:00", "duration": "1h",
                   "facilitators": ["@host@example.social"],
                   "questions": [{"at": "5m", "text": "What do you read on your phone?"},
                                 {"at": "30m", "text": "And on paper?"}]}, f)
    sts = [
        status("1", 5, "host", "Q1 What do you read on your phone? #phonechat"),
        status("2", 6, "alice", "A1 " + "Donaudampfschifffahrtsgesellschaft" * 6 + " #phonechat"),
        status("3", 7, "bob", "A1 see https://example.org/" + "a-very-long-path/" * 12 +
               "?q=" + "x" * 80 + " #phonechat",
               media=[("A chart that is far wider than any phone", base + "/wide.png")]),
        status("4", 8, "carol", "A1 \u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627"
               "\u0644\u0645 and English #phonechat", media=[("", base + "/small.png")]),
    ]
    parent = "2"
    for i in range(9):  # deeper than the transcript nests
        sts.append(status(str(10 + i), 10 + i, f"user{i}", f"@alice reply {i} #phonechat",
                          reply_to=parent))
        parent = str(10 + i)
    sts.append(status("30", 30, "host", "Q2 And on paper? #phonechat"))
    src = os.path.join(tmp, "statuses.jsonl")
    with open(src, "w", encoding="utf-8") as f:
        for s in sts:
            f.write(json.dumps(s) + "\n")
    out = os.path.join(tmp, "archive", "2026-12-03-phone")
    os.makedirs(os.path.dirname(out))
    p = subprocess.run([BIN, "import", "--platform", "mastodon", src, "--session", sess,
                        "--out", out], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"import builds the session directory ({p.stderr.strip()[-300:]})")
    return out


# Run in the page once it has loaded: every image made eager and awaited, then
# what overflows, the images' sizes and the colours in use.
PROBE = """(async () => {
  for (const i of document.images) i.loading = "eager";
  await Promise.all([...document.images].map(i => i.complete ? 0 :
      new Promise(ok => { i.onload = i.onerror = ok; })));
  const d = document.documentElement, b = getComputedStyle(document.body);
  let right = 0, widest = "";
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (r.right > right) { right = r.right; widest = e.tagName + "." + e.className; }
  }
  return {inner: innerWidth, height: d.scrollHeight, scroll: d.scrollWidth, client: d.clientWidth, right, widest,
    images: [...document.images].map(i => [i.naturalWidth, i.getBoundingClientRect().width]),
    dark: matchMedia("(prefers-color-scheme: dark)").matches, bg: b.backgroundColor,
    fg: b.color};
})()"""


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and
    4 in the browser, messages ended by NUL): a phone's viewport and a colour
    scheme are set the way DevTools emulates a device."""

    def __init__(self, path, profile):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)
        self.proc = subprocess.Popen(
            [path, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-default-apps",
             "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--user-data-dir=" + profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, close_fds=False)
        os.close(to_r)
        os.close(from_w)
        self.buf, self.next_id, self.events = b"", 0, []

    def _read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_r], [], [], left)[0]:
                raise TimeoutError("no answer from the browser")
            chunk = os.read(self.from_r, 1 << 16)
            if not chunk:
                raise EOFError("the browser closed its pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, timeout=60, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def wait_event(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except (OSError, TimeoutError, EOFError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_w)
        os.close(self.from_r)


def load(browser, url, scheme, shot, name):
    target = browser.call("Target.createTarget", url="about:blank")["targetId"]
    sid = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    browser.call("Page.enable", sid)
    browser.call("Emulation.setDeviceMetricsOverride", sid, width=WIDTH, height=844,
                 deviceScaleFactor=2, mobile=True)
    browser.call("Emulation.setEmulatedMedia", sid,
                 features=[{"name": "prefers-color-scheme", "value": scheme}])
    browser.call("Page.navigate", sid, url=url)
    browser.wait_event("Page.loadEventFired")
    r = browser.call("Runtime.evaluate", sid, expression=PROBE, awaitPromise=True,
                     returnByValue=True)
    value = r.get("result", {}).get("value")
    if shot and value:  # the whole page, for a person to look at
        clip = {"x": 0, "y": 0, "width": WIDTH, "height": min(value["height"], 6000), "scale": 1}
        data = browser.call("Page.captureScreenshot", sid, clip=clip,
                            captureBeyondViewport=True)["data"]
        with open(os.path.join(shot, f"{name}-{scheme}.png"), "wb") as f:
            f.write(base64.b64decode(data))
    browser.call("Target.closeTarget", targetId=target)
    check(value is not None, f"{name}: the probe ran in the {scheme} scheme ({r.get('exceptionDetails')})")
    return value


def luminance(css):
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def main():
    browser = chromium()
    if browser is None:
        print("SKIP chromium is not installed (Debian package chromium)")
        sys.exit(77)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Images)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    shot = os.environ.get("CK_SCREENSHOTS")
    with tempfile.TemporaryDirectory(prefix="ck-browser-") as tmp:
        out = build(tmp, base)
        if FAILS:
            sys.exit(1)
        with open(os.path.join(out, "transcript.html"), encoding="utf-8") as f:
            page = f.read()
        check(page.count("<img ") == 2, "the two images are thumbnails")
        # The write-up and the archive's index share the transcript's style.
        pages = {"transcript": os.path.join(out, "transcript.html"),
                 "writeup": os.path.join(out, "writeup.html"),
                 "index": os.path.join(os.path.dirname(out), "index.html")}
        b = Browser(browser, os.path.join(tmp, "profile"))
        try:
            results = {(name, s): load(b, "file://" + path, s, shot, name)
                       for name, path in pages.items() for s in ("light", "dark")}
        finally:
            b.close()
    server.shutdown()
    for (name, scheme), r in results.items():
        if r is None:
            continue
        what = f"{name}, {scheme}"
        check(r["inner"] == WIDTH, f"{what}: the page is {WIDTH} px wide ({r['inner']})")
        check(r["scroll"] <= r["client"],
              f"{what}: no sideways scrolling (scroll width {r['scroll']}, {r['client']})")
        check(r["right"] <= r["client"] + 0.5,
              f"{what}: nothing reaches past the screen ({r['right']:.1f}: {r['widest']})")
        if name == "transcript":
            check(sorted(w for w, _ in r["images"]) == [64, 2400],
                  f"{what}: both images loaded ({r['images']})")
            check(all(shown <= WIDTH for _, shown in r["images"]),
                  f"{what}: images are thumbnails ({r['images']})")
    for name in pages:
        light, dark = results[(name, "light")], results[(name, "dark")]
        if not (light and dark):
            continue
        check(not light["dark"] and dark["dark"], f"{name}: the browser was asked for each scheme")
        check(light["bg"] != dark["bg"],
              f"{name}: dark mode changes the background ({light['bg']} -> {dark['bg']})")
        check(luminance(light["bg"]) > 200 and luminance(dark["bg"]) < 60,
              f"{name}: the light background is light, the dark one dark")
        check(luminance(dark["fg"]) > 180, f"{name}: dark mode's text is light ({dark['fg']})")
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
