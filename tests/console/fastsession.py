"""The console tests' rehearsal, four times as fast as it was (the suite's time).

The shipped session (15 min lead, 90 min chat, 30 min grace) at 90x took 90 s
of each console test. At SPEED (360x) with the lead made 60 min, the lead still
lasts 10 s of wall clock (the controls the tests press during the lead have as
long as before), and the chat and grace take a quarter as long (15 s and 5 s):
every check after the lead polls for what it waits on, so it does not depend
on how long the chat lasts. The questions still come 2 s apart and the
script's ~200 statuses still arrive over the chat, one stream event or poll at
a time.

  path = fast_session(SESSION, tmp)  # then: run path --speed SPEED"""
import json
import os

SPEED = "360"


def fast_session(session, tmp, doc=None):
    """A copy of the session file (or of doc, a session already read) in tmp
    whose lead is 60 minutes."""
    doc = dict(doc if doc is not None else json.load(open(session)))
    doc["lead"] = "60m"
    path = os.path.join(tmp, "session-fast.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path
