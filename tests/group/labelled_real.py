"""Grouping accuracy on real chats whose text may not live in this repository.

tests/group/labelled-real/*.json hold a careful reader's labels for real chats
(ids, times, replies, questions) but not the posts' text or authors: their
source declares no licence, so they are read at test time from the shared data
beside the checkout (../shared/data, as CI lays it). The chats are rebuilt in
full in a temporary folder, next to the repository's own labelled chats, and
test_group_labelled scores them all with its thresholds.
usage: labelled_real.py TEST_GROUP_LABELLED SOURCE_ROOT"""
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN, ROOT = sys.argv[1], sys.argv[2]
HERE = os.path.join(ROOT, "tests", "group")
def find_shared():
    """../shared/data beside the checkout, or beside a folder above it (a
    worktree in ../wt/NAME); CK_SHARED_DATA says where when it is elsewhere."""
    if os.environ.get("CK_SHARED_DATA"):
        return os.environ["CK_SHARED_DATA"]
    d = os.path.dirname(os.path.abspath(ROOT))
    while True:
        cand = os.path.join(d, "shared", "data")
        if os.path.isdir(cand) or os.path.dirname(d) == d:
            return os.path.join(os.path.dirname(os.path.abspath(ROOT)), "shared", "data") \
                if not os.path.isdir(cand) else cand
        d = os.path.dirname(d)


SHARED = find_shared()


def tweet_text(t):
    """The text as the twarc importer gives it: t.co links expanded, entities decoded."""
    text = t.get("full_text") or t.get("text") or ""
    for u in t.get("entities", {}).get("urls", []):
        if u.get("expanded_url"):
            text = text.replace(u["url"], u["expanded_url"])
    return html.unescape(text)


def main():
    real = sorted(f for f in os.listdir(os.path.join(HERE, "labelled-real")) if f.endswith(".json"))
    chats = [json.load(open(os.path.join(HERE, "labelled-real", f))) for f in real]
    missing = [c["source"] for c in chats if not os.path.exists(os.path.join(SHARED, c["source"]))]
    if missing:
        print(f"skipped: {', '.join(missing)} not found under {SHARED}")
        return 77
    tmp = tempfile.mkdtemp(prefix="ck-labelled-")
    try:
        for f in os.listdir(os.path.join(HERE, "labelled")):
            shutil.copy(os.path.join(HERE, "labelled", f), tmp)
        for name, c in zip(real, chats):
            tweets = {}
            for line in open(os.path.join(SHARED, c["source"]), encoding="utf-8"):
                if line.strip():
                    t = json.loads(line)
                    tweets[t["id_str"]] = t
            for q in c["questions"]:
                src = q.pop("text_from")
                q["text"] = tweet_text(tweets[src["id"]])[src["start"]:src["end"]]
            for m in c["messages"]:
                t = tweets[m["id"]]
                m["text"] = tweet_text(t)
                m["author"] = "@" + t["user"]["screen_name"]
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as out:
                json.dump(c, out, ensure_ascii=False)
        r = subprocess.run([BIN, tmp])
        return r.returncode
    finally:
        shutil.rmtree(tmp)


sys.exit(main())
