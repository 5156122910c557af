"""The demo a newcomer runs first (`./scripts/demo`): the session file
config/uklibchat.json rehearsed against the simulator script
config/sim/uklibchat.chat.json. Its archive must look like the real chat:
answers under the questions they answer.
usage: test_demo.py CHATKEEPER SOURCE_ROOT [test names]"""
import json
import os
import re
import sys

BIN, ROOT = sys.argv[1], sys.argv[2]
SESSION = os.path.join(ROOT, "config", "uklibchat.json")
SIMULATOR = os.path.join(ROOT, "config", "simulator.json")
SCRIPT = os.path.join(ROOT, "config", "sim", "uklibchat.chat.json")

# "A1", "a1.", "A 4", "Q1 A", after mentions or the hashtag: an answer's own number.
ANSWER = re.compile(r"^(?:(?:@\S+|#uklibchat)\s+)*(?:Q\d\s+)?A\s?(\d)\b", re.I)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def offset_ms(text):
    """'1h5m' -> ms, as the session file writes offsets."""
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    assert m and text, text
    h, mi, s = (int(g or 0) for g in m.groups())
    return ((h * 60 + mi) * 60 + s) * 1000


def test_session_and_script_ask_the_same_questions():
    script = load(SCRIPT)
    host = {s["key"]: s for s in script["statuses"] if s.get("key", "").startswith("q")}
    for path in (SESSION, SIMULATOR):
        session = load(path)
        asked = [q["text"] for q in session["questions"]]
        assert asked == script["questions"], (path, asked, script["questions"])
        for n, q in enumerate(session["questions"], 1):
            # The script's own host post of question n (what its answers reply
            # to) asks the same thing at the same time.
            post = host["q%d" % n]
            assert q["text"] in post["text"], (path, n, post["text"])
            assert offset_ms(q["at"]) == offset_ms(post["at"]), (path, n, q["at"], post["at"])
    # Every numbered answer in the script answers one of the questions asked.
    numbers = {int(m.group(1)) for s in script["statuses"]
               if "text" in s and (m := ANSWER.match(s["text"]))}
    assert numbers == set(range(1, len(script["questions"]) + 1)), numbers


if __name__ == "__main__":
    names = sys.argv[3:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("ok", name)
