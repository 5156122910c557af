// The facilitators' console: one script, no framework. It reads the key from
// the address's fragment (never sent over the network), keeps it for this tab
// only, and follows the run as server-sent events read from fetch (so the key
// travels in a header, never in a URL). Everything people wrote is put in the
// page with textContent: message text is never parsed as HTML.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let key = null;
  const m = /[#&]k=([A-Za-z0-9_-]{16,})/.exec(location.hash);
  if (m) {
    key = m[1];
    try { sessionStorage.setItem("ck-key", key); } catch (e) { /* private mode */ }
    history.replaceState(null, "", location.pathname); // the key leaves the address bar
  } else {
    try { key = sessionStorage.getItem("ck-key"); } catch (e) { key = null; }
  }
  let snap = null;
  let asked = null; // question labels already out, to announce each new one once
  let filter = "all";
  // serve: the session this page follows ("" = the list of every session).
  let room = "";
  let gen = 0; // the event stream's generation: a new room ends the old stream
  let reader = null;
  function api(path) { return room ? path + "?s=" + encodeURIComponent(room) : path; }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  // Links only to the web: a "javascript:" URL in a message stays text.
  function safeUrl(u) {
    return typeof u === "string" && /^https?:\/\//i.test(u) ? u : null;
  }
  function link(u, text) {
    const href = safeUrl(u);
    if (!href) return el("span", null, text);
    const a = el("a", null, text);
    a.href = href;
    a.rel = "noopener noreferrer";
    return a;
  }
  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  function dur(ms) {
    let s = Math.max(0, Math.ceil(ms / 1000));
    const h = Math.floor(s / 3600), mi = Math.floor((s % 3600) / 60);
    s %= 60;
    return (h ? h + "h" : "") + (h || mi ? mi + "m" : "") + s + "s";
  }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function conn(text, bad) {
    const c = $("conn");
    c.textContent = text;
    c.classList.toggle("bad", !!bad);
  }

  async function control(body) {
    const r = await fetch(api("/api/control"), {
      method: "POST", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-Console-Key": key },
      body: JSON.stringify(body),
    });
    let msg = r.statusText;
    try { msg = (await r.json()).message || msg; } catch (e) { /* 403 has no body */ }
    $(snap && snap.mode === "review" ? "review-msg" : "ctl-msg").textContent = msg;
    return r.status;
  }

  // ---- the live run ----------------------------------------------------------
  function renderSteps(s) {
    const ol = $("steps");
    const keep = document.activeElement && document.activeElement.dataset.focus;
    ol.replaceChildren();
    const upcoming = s.steps.filter((st) => st.status === "upcoming");
    for (const st of s.steps) {
      const li = el("li");
      const head = el("div", "head");
      head.append(el("strong", null, st.label), el("span", "muted", clock(st.at_ms)),
        el("span", "badge st-" + st.status, st.status));
      if (st.url) head.append(link(st.url, "see the post"));
      li.append(head, el("span", null, st.text));
      if (st.reason) li.append(el("span", "muted", st.reason));
      if (st.status === "upcoming" && s.posting) {
        const bar = el("div", "actions");
        if (upcoming[0] === st) {
          const b = el("button", "primary", "Post " + st.label + " now");
          b.type = "button";
          b.dataset.focus = "post-" + st.label;
          b.dataset.action = "post_now";
          b.dataset.step = st.label;
          bar.append(b);
        }
        const k = el("button", null, "Skip " + st.label);
        k.type = "button";
        k.dataset.focus = "skip-" + st.label;
        k.dataset.action = "skip";
        k.dataset.step = st.label;
        bar.append(k);
        li.append(bar);
      }
      ol.append(li);
    }
    if (keep) {
      const again = ol.querySelector('[data-focus="' + CSS.escape(keep) + '"]');
      if (again) again.focus();
    }
    const sel = $("edit-step");
    if (document.activeElement !== sel) {
      const was = sel.value;
      sel.replaceChildren(...upcoming.map((st) => { const o = el("option", null, st.label); o.value = st.label; return o; }));
      if (upcoming.some((st) => st.label === was)) sel.value = was;
      else if (upcoming.length && document.activeElement !== $("edit-text")) $("edit-text").value = upcoming[0].raw;
    }
    $("edit").hidden = !s.posting || upcoming.length === 0;
    $("sheet-controls").hidden = !s.posting;
    $("hold").disabled = s.held;
    $("resume-shift").disabled = $("resume-keep").disabled = !s.held;
  }

  function messageItem(msg) {
    const li = el("li");
    li.dataset.id = msg.id;
    const head = el("div", "msg-head");
    head.append(el("span", "name", msg.name || msg.handle), el("span", null, msg.handle),
      link(msg.url, clock(msg.created_ms)), el("span", "badge", "filed by " + msg.by));
    li.append(head);
    if (msg.reply_to) {
      const ctx = el("div", "ctx");
      if (msg.reply_to.missing) ctx.textContent = "replying to a post we do not have";
      else ctx.textContent = "replying to " + msg.reply_to.handle + ": " + msg.reply_to.text;
      li.append(ctx);
    }
    li.append(el("p", "msg-text", msg.text));
    return li;
  }

  function renderQuestions(s) {
    const box = $("questions");
    box.replaceChildren();
    for (const q of s.questions) {
      const art = el("article", "q");
      art.id = "q-" + q.number;
      art.setAttribute("aria-labelledby", "qh-" + q.number);
      const h = el("h3", null, q.label + " " + q.text);
      h.id = "qh-" + q.number;
      art.append(h);
      const c = el("p", "count", q.asked
        ? plural(q.answers, "answer", "answers") + " from " + plural(q.people, "person", "people")
        : "not asked yet");
      c.dataset.count = q.answers;
      art.append(c);
      if (q.newest.length) {
        const ol = el("ol", "msgs");
        ol.setAttribute("aria-label", "newest answers to " + q.label);
        for (const msg of q.newest) ol.append(messageItem(msg));
        art.append(ol);
      }
      box.append(art);
    }
    $("totals").textContent = plural(s.messages, "message", "messages") + " from " +
      plural(s.people, "person", "people") + "; " + s.unfiled + " not in a question";
  }

  // Capture health, one line per source: how it reads, when it last read well,
  // how late the newest message came, its request budget, its errors.
  function renderCapture(s) {
    const ul = $("sources");
    ul.replaceChildren();
    for (const c of s.sources || []) {
      const li = el("li");
      li.append(el("strong", null, c.name || c.type || "source"));
      const parts = [c.streaming ? "streaming" : "polling", c.state];
      if (c.last_ok_ms) parts.push("last read " + clock(c.last_ok_ms));
      if (c.lag_ms !== undefined) parts.push("lag " + dur(c.lag_ms));
      const rl = c.rate_limit;
      if (rl) parts.push("budget " + rl.remaining + "/" + rl.limit +
        (rl.reset_ms ? ", resets " + clock(rl.reset_ms) : ""));
      parts.push(plural(c.requests, "request", "requests"), plural(c.errors, "error", "errors"));
      if (c.rate_limited) parts.push("rate limited " + c.rate_limited + "x");
      li.append(el("span", null, " " + parts.join(" · ")));
      if (c.last_error) li.append(el("span", "bad", " last error: " + c.last_error));
      li.classList.toggle("bad", !!(rl && rl.blocked_until_ms > Date.now()));
      ul.append(li);
    }
  }

  // ---- the people panels -------------------------------------------------------
  // Each entry's "Dismiss" is a control like the run sheet's (journaled): the
  // entry leaves every open page. Focus moves to the next entry, or the heading.
  function dismissButton(label, body, focusKey) {
    const b = el("button", null, "Dismiss");
    b.type = "button";
    b.setAttribute("aria-label", label);
    b.dataset.focus = focusKey;
    b.addEventListener("click", () => control(Object.assign({ action: "dismiss" }, body)));
    return b;
  }

  function panel(listId, headId, items, total, make) {
    const ol = $(listId);
    const keep = document.activeElement && document.activeElement.dataset.focus;
    const keptAt = keep ? [...ol.querySelectorAll("[data-focus]")].findIndex((e) => e.dataset.focus === keep) : -1;
    ol.replaceChildren(...items.map(make));
    $(headId).dataset.count = total;
    if (keptAt >= 0) {
      const again = ol.querySelector('[data-focus="' + CSS.escape(keep) + '"]');
      const next = ol.querySelectorAll("[data-focus]")[Math.min(keptAt, items.length - 1)];
      (again || next || $(headId)).focus();
    }
  }

  let drawn = {}; // the panels' data as last drawn: a patch that left them alone leaves them be
  function renderPeople(s) {
    if (drawn.newcomers === s.newcomers && drawn.mentions === s.mentions) return;
    drawn = { newcomers: s.newcomers, mentions: s.mentions };
    const hello = s.newcomers || [], asks = s.mentions || [];
    $("hello-count").textContent = hello.length
      ? plural(s.newcomers_total, "person", "people") + " to say hello to" : "Nobody new waiting.";
    panel("hello", "hello-h", hello, s.newcomers_total, (m) => {
      const li = messageItem(m);
      li.prepend(el("p", "hello-line", "Say hello to " + (m.name || m.handle)));
      li.append(dismissButton("Dismiss: say hello to " + (m.name || m.handle), { handle: m.handle },
        "hello-" + m.handle));
      return li;
    });
    $("asks-count").textContent = asks.length
      ? plural(s.mentions_total, "post", "posts") + " waiting for a host" : "Nothing waiting for a host.";
    panel("asks", "asks-h", asks, s.mentions_total, (m) => {
      const li = messageItem(m);
      li.querySelector(".msg-head").append(el("span", "badge", m.kind === "question" ? "asks the host" : "mentions the host"));
      li.append(dismissButton("Dismiss the post by " + (m.name || m.handle), { id: m.id }, "ask-" + m.id));
      return li;
    });
  }

  function announceAsked(s) {
    const now = new Set(s.questions.filter((q) => q.asked).map((q) => q.label));
    if (asked !== null) {
      for (const q of s.questions)
        if (q.asked && !asked.has(q.label)) $("announce").textContent = q.label + " is out: " + q.text;
    }
    asked = now;
  }

  function tick() {
    if (!snap || snap.mode !== "live") return;
    const n = snap.next;
    let t = snap.held ? "Held since " + clock(snap.held_since_ms) + ". " : "";
    if (n) t += "Next: " + n.label + (n.at_ms > Date.now() ? " in " + dur(n.at_ms - Date.now()) : " now");
    else t += "Every step is out.";
    $("next").textContent = t;
  }

  // ---- review ----------------------------------------------------------------
  function keepMsg(msg) {
    if (filter === "time") return msg.by === "time";
    if (filter === "none") return msg.questions.length === 0;
    if (filter === "orphan") return !!(msg.reply_to && msg.reply_to.missing);
    return true;
  }

  function reviewActions(s, msg) {
    const bar = el("div", "actions");
    const sel = el("select");
    sel.setAttribute("aria-label", "question for this message");
    sel.dataset.focus = "q-" + msg.id;
    const none = el("option", null, "no question");
    none.value = "0";
    sel.append(none);
    for (const q of s.questions) { const o = el("option", null, q.label); o.value = String(q.number); sel.append(o); }
    sel.value = msg.questions.length ? String(msg.questions[0]) : "0";
    const mk = (text, action, extra) => {
      const b = el("button", null, text);
      b.type = "button";
      b.dataset.focus = action + "-" + msg.id;
      b.addEventListener("click", () => control(Object.assign({ action: action, id: msg.id }, extra ? extra() : {})));
      return b;
    };
    bar.append(sel, mk("Move", "move", () => ({ question: Number(sel.value) })),
      mk("Move thread", "move", () => ({ question: Number(sel.value), thread: true })),
      mk(msg.hidden ? "Show" : "Hide", msg.hidden ? "show" : "hide"), mk("Spam", "spam"),
      mk("Opt out " + msg.handle, "opt_out", () => ({ handle: msg.handle })));
    return bar;
  }

  function renderReview(s) {
    const ol = $("review-list");
    const keep = document.activeElement && document.activeElement.dataset.focus;
    ol.replaceChildren();
    const shown = s.messages.filter(keepMsg);
    for (const msg of shown) {
      const li = messageItem(msg);
      const where = msg.questions.length ? "in " + msg.questions.map((n) => "Q" + n).join(", ") : "not in a question";
      li.querySelector(".msg-head").append(el("span", "badge", where + (msg.hidden ? ", hidden" : "")));
      li.append(reviewActions(s, msg));
      ol.append(li);
    }
    $("review-count").textContent = plural(shown.length, "message", "messages") + " of " + s.messages.length;
    renderLeftOut(s);
    renderPublish(s);
    $("writeup").textContent = s.writeup || "";
    if (keep) {
      const again = ol.querySelector('[data-focus="' + CSS.escape(keep) + '"]');
      if (again) again.focus();
    }
  }

  // What overrides.json leaves out, each with the button that takes it back.
  function undoItem(text, label, body) {
    const li = el("li");
    li.append(el("span", null, text + " "));
    const b = el("button", null, label);
    b.type = "button";
    b.dataset.focus = body.action + "-" + (body.id || body.handle);
    b.addEventListener("click", () => control(body));
    li.append(b);
    return li;
  }
  function renderLeftOut(s) {
    const hidden = s.hidden || [], opted = s.opted_out || [];
    $("hidden-list").replaceChildren(...hidden.map((h) => undoItem(
      (h.spam ? "Spam: " : "Hidden: ") + (h.handle ? h.handle + ": " + h.text : "message " + h.id),
      h.spam ? "Not spam" : "Show again", { action: h.spam ? "unspam" : "unhide", id: h.id })));
    $("optout-list").replaceChildren(...opted.map((h) => undoItem("Opted out: " + h,
      "Opt " + h + " in again", { action: "opt_in", handle: h })));
    $("out-none").hidden = hidden.length + opted.length > 0;
  }
  function renderPublish(s) {
    const pub = s.published || [];
    const st = $("pub-state");
    st.replaceChildren();
    if (!s.publishable) st.textContent = "The session file has no \"publish\" section.";
    else if (!pub.length) st.textContent = "Not published yet.";
    else {
      st.append("Published at ");
      pub.forEach((p, i) => { if (i) st.append(", "); st.append(link(p.url, p.url)); });
    }
    $("publish").disabled = !s.publishable;
  }

  // serve: every session it carries, each opened in this page.
  function renderSessions(s) {
    const ol = $("sessions");
    ol.replaceChildren();
    for (const x of s.sessions) {
      const li = el("li");
      const head = el("div", "head");
      head.append(el("strong", null, x.title), el("span", "muted", new Date(x.start_ms).toLocaleString()),
        el("span", "badge", x.state));
      li.append(head, el("span", "muted", x.dir));
      if (x.room) {
        const b = el("button", null, (x.state === "running" ? "Open the live view of " : "Review ") + x.title);
        b.type = "button";
        b.dataset.focus = "room-" + x.room;
        b.addEventListener("click", () => openRoom(x.room));
        li.append(b);
      }
      ol.append(li);
    }
  }
  function openRoom(id) {
    room = id;
    snap = null;
    asked = null;
    $("room-bar").hidden = !room;
    follow();
    $("main").focus();
  }

  function render(s) {
    snap = s;
    $("title").textContent = (s.title || "chatkeeper") + (s.hashtag ? " #" + s.hashtag.replace(/^#/, "") : "");
    document.title = (s.title || "chatkeeper") + " · console";
    const live = s.mode === "live";
    document.body.dataset.phase = s.phase || s.mode;
    conn(live ? "Live · " + s.phase : "Review");
    $("live").hidden = $("questions-sec").hidden = $("capture-sec").hidden = !live;
    $("people-sec").hidden = !live;
    $("review").hidden = live || s.mode !== "review";
    $("serve").hidden = s.mode !== "serve";
    if (s.mode === "serve") {
      conn("Serving " + plural(s.sessions.length, "session", "sessions"));
      renderSessions(s);
    } else if (live) {
      renderSteps(s);
      renderQuestions(s);
      renderPeople(s);
      renderCapture(s);
      announceAsked(s);
      tick();
    } else {
      renderReview(s);
    }
  }

  function onEvent(block) {
    let type = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) type = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    if (type === "state" && data) render(JSON.parse(data));
    // Only the members that changed (null: gone), merged into the last view.
    if (type === "patch" && data && snap) {
      const next = Object.assign({}, snap);
      for (const [k, v] of Object.entries(JSON.parse(data))) {
        if (v === null) delete next[k];
        else next[k] = v;
      }
      render(next);
    }
  }

  async function follow() {
    const mine = ++gen;
    if (reader) reader.cancel().catch(() => {});
    for (;;) {
      if (mine !== gen) return;
      try {
        const r = await fetch(api("/api/events"), { headers: { "X-Console-Key": key }, cache: "no-store" });
        if (mine !== gen) { r.body.cancel().catch(() => {}); return; }
        if (r.status === 404 && room) { openRoom(""); return; } // that session's room closed
        if (r.status === 403) {
          conn("The key was refused: open the address chatkeeper printed.", true);
          return;
        }
        conn("Live");
        const rd = r.body.getReader();
        reader = rd;
        const dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await rd.read();
          if (done || mine !== gen) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            onEvent(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        }
      } catch (e) { /* the run stopped or the network went away */ }
      if (mine !== gen) return; // another room took over
      conn("Disconnected; trying again…", true);
      await new Promise((res) => setTimeout(res, 3000)); // a reconnect, not a poll
    }
  }

  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (b && b.dataset.step) control({ action: b.dataset.action, step: b.dataset.step });
  });
  $("publish").addEventListener("click", () => control({ action: "publish" }));
  $("room-back").addEventListener("click", () => openRoom(""));
  $("hold").addEventListener("click", () => control({ action: "hold" }));
  $("resume-shift").addEventListener("click", () => control({ action: "resume", shift: true }));
  $("resume-keep").addEventListener("click", () => control({ action: "resume", shift: false }));
  $("edit-step").addEventListener("change", () => {
    const st = snap && snap.steps.find((x) => x.label === $("edit-step").value);
    if (st) $("edit-text").value = st.raw;
  });
  $("edit-text").addEventListener("input", () => {
    const st = snap && snap.steps && snap.steps.find((x) => x.label === $("edit-step").value);
    $("edit-count").textContent = [...$("edit-text").value].length + " characters (the post adds its number and hashtag)" +
      (st && st.max ? "; the platform takes " + st.max + " as posted" : "");
  });
  $("edit").addEventListener("submit", (ev) => {
    ev.preventDefault();
    control({ action: "edit", step: $("edit-step").value, text: $("edit-text").value });
  });
  for (const r of document.querySelectorAll('input[name="filter"]'))
    r.addEventListener("change", () => { filter = r.value; if (snap && snap.mode === "review") renderReview(snap); });
  setInterval(tick, 1000); // the countdown, drawn locally

  if (!key) {
    conn("No key: open the address chatkeeper printed (it ends with #k=…).", true);
    return;
  }
  follow();
})();
