"""The console's page in a real browser (headless Chromium over the DevTools
protocol, tests/render/test_browser.py's driver) at a phone's width, during a
rehearsal whose script has one more participant: a hostile answer to Q1
(script tags, an onerror image, a bidi override, a javascript: URL) from the
account whose display name is itself an <img> tag.

  - the page shows each asked question and its live count;
  - "post next now", pressed with the keyboard (focus, Enter), posts the step
    once;
  - the polite live region announces a new question;
  - the hostile answer shows as text: no script ran, no element was made;
  - "say hello to" shows the hostile display name as text;
  - nothing is wider than the phone, and dark mode darkens the page.
Skips (exit 77) without chromium.

usage: test_console_browser.py CHATKEEPER SESSION SCRIPT"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "render"))
from test_browser import Browser, chromium  # noqa: E402  (the same DevTools driver)

BIN, SESSION, SCRIPT = sys.argv[1:4]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fastsession import SPEED, fast_session  # noqa: E402  (lead 10 s of wall clock, 360x)
FAILS = []
HOSTILE = ('A1 <script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> '
           '\u202eevil\u202c javascript:alert(1) #uklibchat')


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def evaluate(b, sid, expr):
    r = b.call("Runtime.evaluate", sid, expression=expr, returnByValue=True, awaitPromise=True)
    return r.get("result", {}).get("value")


def wait_page(b, sid, what, expr, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = evaluate(b, sid, expr)
        if v:
            return v
        time.sleep(0.2)
    check(False, "timed out waiting for the page to show " + what)
    return None


def key(b, sid, name, code, vk, text=None):
    for kind in ("keyDown", "keyUp"):
        params = {"type": kind, "key": name, "code": code, "windowsVirtualKeyCode": vk}
        if text and kind == "keyDown":
            params["text"] = text
        b.call("Input.dispatchKeyEvent", sid, **params)


def main():
    path = chromium()
    if path is None:
        print("SKIP chromium is not installed (Debian package chromium)")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="ck-console-page-") as tmp:
        script = json.load(open(SCRIPT))
        script["statuses"].append({"at": "16m30s", "account": "evil", "text": HOSTILE,
                                   "key": "hostile"})
        spath = os.path.join(tmp, "hostile.chat.json")
        json.dump(script, open(spath, "w"))
        out = os.path.join(tmp, "session")
        # The chat starts in 14 s: the lead (10 s at 360x) has begun, the welcome is next.
        start = datetime.fromtimestamp(int(time.time()) + 14, timezone.utc)
        err = open(os.path.join(tmp, "stderr.log"), "w")
        proc = subprocess.Popen(
            [BIN, "run", fast_session(SESSION, tmp), "--rehearse", spath, "--speed", SPEED,
             "--out", out,
             "--no-status", "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ")],
            stdout=subprocess.PIPE, stderr=err, text=True, cwd=tmp)
        b = None
        try:
            line = proc.stdout.readline()
            check(line.startswith("console: http://127.0.0.1:"), f"the address is printed ({line!r})")
            url = line.split(" ", 1)[1].strip()
            b = Browser(path, os.path.join(tmp, "profile"))
            target = b.call("Target.createTarget", url="about:blank")["targetId"]
            sid = b.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            b.call("Page.enable", sid)
            b.call("Emulation.setDeviceMetricsOverride", sid, width=390, height=844,
                   deviceScaleFactor=2, mobile=True)
            b.call("Page.navigate", sid, url=url)
            b.wait_event("Page.loadEventFired")
            check(evaluate(b, sid, "location.hash") == "", "the key leaves the address bar")
            wait_page(b, sid, "the lead time", "document.body.dataset.phase === 'lead'")
            label = wait_page(b, sid, "the 'post now' button",
                              "(() => { const x = document.querySelector("
                              "'button[data-action=post_now]'); return x && x.dataset.step; })()")
            # Keyboard only: focus the button, press Enter.
            evaluate(b, sid, "document.querySelector('button[data-action=post_now]').focus()")
            key(b, sid, "Enter", "Enter", 13, "\r")
            msg = wait_page(b, sid, "the control's answer",
                            "document.getElementById('ctl-msg').textContent")
            check(msg is not None and label + " is being posted" in msg,
                  f"Enter on 'post {label} now' answers: {msg}")
            counts = wait_page(b, sid, "asked questions with counts", """(() => {
                const qs = [...document.querySelectorAll('#questions article')];
                const asked = qs.filter(a => /answers? from/.test(a.textContent));
                return asked.length >= 2 && asked.some(a => Number(a.querySelector('.count')
                    .dataset.count) > 0) ? asked.map(a => a.querySelector('.count').textContent)
                    : null; })()""")
            check(counts is not None, f"each asked question shows its count ({counts})")
            ann = wait_page(b, sid, "a polite announcement",
                            "document.getElementById('announce').textContent")
            check(ann is not None and " is out: " in ann, f"the live region announces ({ann})")
            check(evaluate(b, sid, "document.getElementById('announce').getAttribute('aria-live')")
                  == "polite", "the live region is polite")
            shown = wait_page(b, sid, "the hostile answer", """(() => {
                const t = [...document.querySelectorAll('.msg-text')].map(e => e.textContent);
                return t.find(x => x.includes('<script>')) || null; })()""")
            check(shown is not None and "onerror" in shown, "the hostile answer shows as text")
            check(evaluate(b, sid, "typeof window.__pwned") == "undefined", "no script of it ran")
            check(evaluate(b, sid, "document.querySelectorAll('main script, main img').length") == 0,
                  "no element was made from it")
            names = evaluate(b, sid, "[...document.querySelectorAll('.name')].map(e => e.textContent)")
            check(any("<img" in n for n in names or []), "a hostile display name shows as text")
            hello = wait_page(b, sid, "the hostile name under 'say hello to'", """(() => {
                const t = [...document.querySelectorAll('#hello .name')].map(e => e.textContent);
                return t.find(x => x.includes('<img')) || null; })()""")
            check(hello is not None and evaluate(b, sid, "document.querySelectorAll('#hello img, "
                  "#hello script').length") == 0, f"'say hello to' shows the name as text ({hello})")
            links = evaluate(b, sid, "[...document.querySelectorAll('main a')].map(a => a.href)")
            check(all(re.match(r"https?://", h) for h in links or []), "every link is http(s)")
            wide = evaluate(b, sid, "document.documentElement.scrollWidth <= innerWidth")
            check(wide is True, "nothing is wider than the phone")
            light = evaluate(b, sid, "getComputedStyle(document.body).backgroundColor")
            b.call("Emulation.setEmulatedMedia", sid,
                   features=[{"name": "prefers-color-scheme", "value": "dark"}])
            dark = evaluate(b, sid, "getComputedStyle(document.body).backgroundColor")
            check(light != dark, f"dark mode changes the background ({light} -> {dark})")
            if os.environ.get("CK_SCREENSHOTS"):
                import base64
                data = b.call("Page.captureScreenshot", sid, captureBeyondViewport=True)["data"]
                with open(os.path.join(os.environ["CK_SCREENSHOTS"], "console-dark.png"), "wb") as f:
                    f.write(base64.b64decode(data))
            b.call("Target.closeTarget", targetId=target)
            rc = proc.wait(timeout=240)
            check(rc == 0, f"the rehearsal ends well (exit {rc})")
        finally:
            if b is not None:
                b.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            err.close()
        posts = set()
        for line in open(os.path.join(out, "journal.jsonl")):
            e = json.loads(line)
            o = e["object"]
            if e["platform"] == "mastodon" and (o.get("application") or {}).get("name") == "chatkeeper":
                posts.add((o["id"], o["content"]))
        want = "welcome" if label == "welcome" else label + " "
        n = sum(1 for _, c in posts if (c.startswith("<p>Welcome") if label == "welcome"
                                        else c.startswith("<p>" + want)))
        check(n == 1, f"{label} went out once ({n})")
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
