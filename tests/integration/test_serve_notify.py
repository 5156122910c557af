"""`chatkeeper serve` speaks systemd's notify protocol (sd_notify(3)) when
NOTIFY_SOCKET is set: READY=1 once the files are loaded and it waits, STATUS=
with what is next, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM.
A Python AF_UNIX datagram socket plays systemd, by path and abstract name.
usage: test_serve_notify.py CHATKEEPER [test names]"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from ckit import check, iso, now_ms, run_tests  # noqa: E402

BIN = sys.argv[1]


def session_file(tmp, title, start_ms):
    doc = {"title": title, "hashtag": "uklibchat", "timezone": "UTC", "start": iso(start_ms),
           "duration": "30m", "platform": {"type": "mastodon", "base_url": "https://127.0.0.1:9",
                                           "token_env": "CK_TEST_TOKEN"},
           "post": True, "archive_dir": os.path.join(tmp, "archive"),
           "welcome": {"at": "0m", "text": "Welcome"},
           "questions": [{"at": "5m", "text": "Q1?"}], "closing": {"at": "25m", "text": "Bye"}}
    path = os.path.join(tmp, "session.json")
    json.dump(doc, open(path, "w"))
    return path


def serve_with_listener(abstract, watchdog_usec=None):
    """Messages systemd would have heard, in order, and serve's exit status."""
    tmp = tempfile.mkdtemp(prefix="ck-notify-")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"@ck-notify-test-{os.getpid()}-{time.time_ns()}" if abstract else \
        os.path.join(tmp, "notify.sock")
    sock.bind("\0" + name[1:] if abstract else name)
    sock.settimeout(0.2)
    env = dict(os.environ, NOTIFY_SOCKET=name, CK_TEST_TOKEN="test-token")
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    path = session_file(tmp, "Notify chat", now_ms() + 3 * 3600 * 1000)
    log = open(os.path.join(tmp, "serve.log"), "w")
    p = subprocess.Popen([BIN, "serve", path], stdout=log, stderr=subprocess.STDOUT, env=env)
    msgs = []

    def wait_for(what, cond, timeout=30):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if cond():
                return
            try:
                msgs.append(sock.recv(4096).decode())
            except socket.timeout:
                check(p.poll() is None or what == "exit", f"serve exited ({p.returncode})")
        raise AssertionError(f"timed out waiting for {what}; heard {msgs}")

    try:
        wait_for("READY=1", lambda: "READY=1" in msgs)
        wait_for("STATUS=", lambda: any(m.startswith("STATUS=") for m in msgs))
        if watchdog_usec:
            wait_for("two WATCHDOG=1", lambda: msgs.count("WATCHDOG=1") >= 2)
        p.send_signal(signal.SIGTERM)
        wait_for("STOPPING=1", lambda: "STOPPING=1" in msgs)
        rc = p.wait(15)
        return msgs, rc
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        sock.close()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_ready_status_watchdog_stopping_on_a_path_socket():
    msgs, rc = serve_with_listener(False, watchdog_usec=600000)
    check(rc == 0, f"serve exited {rc} on SIGTERM")
    status = [m for m in msgs if m.startswith("STATUS=")]
    check(any("next: 'Notify chat'" in m and "starts in" in m for m in status),
          f"STATUS= does not say what is next: {status}")
    check(msgs.index("READY=1") < msgs.index("STOPPING=1"), f"order: {msgs}")
    check(msgs.count("READY=1") == 1, f"READY=1 sent more than once: {msgs}")
    check(not any("test-token" in m for m in msgs), "the token went to systemd")


def test_abstract_socket_without_watchdog():
    msgs, rc = serve_with_listener(True)
    check(rc == 0, f"serve exited {rc} on SIGTERM")
    check("WATCHDOG=1" not in msgs, f"WATCHDOG=1 without WATCHDOG_USEC: {msgs}")
    check("READY=1" in msgs and "STOPPING=1" in msgs, f"heard {msgs}")


def test_no_socket_no_harm():
    """Without NOTIFY_SOCKET serve runs and stops as before (nothing is sent)."""
    tmp = tempfile.mkdtemp(prefix="ck-notify-")
    try:
        path = session_file(tmp, "Plain chat", now_ms() + 3 * 3600 * 1000)
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        p = subprocess.Popen([BIN, "serve", path], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env, text=True)
        status = os.path.join(tmp, "archive", "serve-status.json")
        t0 = time.time()
        while not os.path.exists(status) and time.time() - t0 < 30:
            time.sleep(0.1)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=15)
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    tests = [test_ready_status_watchdog_stopping_on_a_path_socket,
             test_abstract_socket_without_watchdog, test_no_socket_no_harm]
    names = sys.argv[2:]
    if names:
        tests = [t for t in tests if t.__name__ in names]
    sys.exit(run_tests(tests))
