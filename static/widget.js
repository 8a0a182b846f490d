/*! AI Gateway chat widget. Embed: <script src="https://GATEWAY/static/widget.js" data-key="amgpk_…" async></script>
 * No dependencies, no requests except to the gateway this file comes from (docs/widget.md). */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.src) return;
  const KEY = script.dataset.key || "";
  // The dashboard's live preview: settings from data- attributes and "amg-widget-preview"
  // events, no request at all, nothing sent.
  const PREVIEW = "preview" in script.dataset;
  const GW = new URL(script.src).origin;
  const DEFAULT_COLOR = "#2563eb";
  const TEXT = {
    unavailable: "Chat is unavailable.",
    inactive: "Chat is currently unavailable.",
    daily: "That's all for today. Please come back tomorrow.",
    failed: "Something went wrong. Please try again.",
    busy: "Please try again in a moment.",
  };

  // --- small DOM helper: never innerHTML, text always through textContent ---
  const el = (tag, attrs, ...kids) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const kid of kids) node.append(kid);
    return node;
  };

  // --- safe Markdown: build DOM nodes, only http(s)/mailto links, images become links ---
  const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s](?:[^*]*[^*\s])?)\*|(!?)\[([^\]]*)\]\(((?:[^()\s]|\([^()\s]*\))+)(?:\s+"[^"]*")?\)|(^|[\s(])(https?:\/\/[^\s<>()"']+[^\s<>().,;:!?'"])/g;
  const safeUrl = (href) => {
    try {
      const u = new URL(href);
      return ["http:", "https:", "mailto:"].includes(u.protocol) ? u.href : null;
    } catch (e) {
      return null;
    }
  };
  const link = (label, href) => {
    const url = safeUrl(href);
    if (!url) return document.createTextNode(label);
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow", text: label || url });
  };
  const inline = (parent, text) => {
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      parent.append(text.slice(last, m.index));
      last = m.index + m[0].length;
      if (m[1] !== undefined) parent.append(el("code", { text: m[1] }));
      else if (m[2] !== undefined) inline(parent.appendChild(el("strong")), m[2]);
      else if (m[3] !== undefined) inline(parent.appendChild(el("em")), m[3]);
      else if (m[6] !== undefined) parent.append(link(m[4] ? m[5] || "image" : m[5], m[6]));
      else parent.append(m[7], link(m[8], m[8])); // no lookbehind: older Safari lacks it
    }
    parent.append(text.slice(last));
  };
  // A table row's cells: "| a | b |" or "a | b" (a pipe inside backticks or escaped as \| is not a separator).
  const cells = (line) => {
    const out = [];
    let cell = "";
    let code = false;
    const text = line.trim().replace(/^\|/, "").replace(/(^|[^\\])\|$/, "$1");
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === "\\" && text[i + 1] === "|") cell += text[++i];
      else if (c === "`") (code = !code), (cell += c);
      else if (c === "|" && !code) out.push(cell.trim()), (cell = "");
      else cell += c;
    }
    return [...out, cell.trim()];
  };
  const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
  const markdown = (src) => {
    const root = document.createDocumentFragment();
    const lines = String(src).replace(/\r\n?/g, "\n").split("\n");
    let para = null;
    let list = null;
    const end = () => (para = list = null);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (/^\s*>/.test(line)) {
        const quoted = [];
        for (; i < lines.length && /^\s*>/.test(lines[i]); i++) quoted.push(lines[i].replace(/^\s*>\s?/, ""));
        i--;
        root.append(el("blockquote", {}, markdown(quoted.join("\n"))));
        end();
        continue;
      }
      if (line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]) && lines[i + 1].includes("-")) {
        const head = cells(line);
        const row = (tag, values) => {
          const tr = el("tr");
          head.forEach((_, n) => inline(tr.appendChild(el(tag)), values[n] || ""));
          return tr;
        };
        const body = el("tbody");
        for (i += 2; i < lines.length && lines[i].includes("|") && lines[i].trim(); i++) body.append(row("td", cells(lines[i])));
        i--;
        root.append(el("table", {}, el("thead", {}, row("th", head)), body));
        end();
        continue;
      }
      if (/^\s*```/.test(line)) {
        const code = [];
        while (++i < lines.length && !/^\s*```/.test(lines[i])) code.push(lines[i]);
        root.append(el("pre", {}, el("code", { text: code.join("\n") })));
        end();
        continue;
      }
      const item = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/.exec(line);
      if (item) {
        const tag = item[1] ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== tag) root.append((list = el(tag)));
        inline(list.appendChild(el("li")), item[3]);
        para = null;
        continue;
      }
      if (!line.trim()) {
        end();
        continue;
      }
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      if (heading) {
        end();
        inline(root.appendChild(el("p")).appendChild(el("strong")), heading[1]);
        continue;
      }
      if (para) para.append(el("br"));
      else root.append((para = el("p")));
      list = null;
      inline(para, line);
    }
    return root;
  };

  // A reply still streaming, made renderable: an open code fence is closed, and on the last line an
  // unfinished **, *, ` or [link]( is closed or held back, so no raw marker flashes while tokens arrive.
  const settle = (text) => {
    if ((text.match(/^\s*```/gm) || []).length % 2) return text + "\n```";
    const lines = text.split("\n");
    let last = lines.pop().replace(/`{1,2}$/, (m, at, s) => (/^\s*`{1,2}$/.test(s) ? "" : m));
    last = last.replace(/!?\[[^\]]*(\]\([^)]*)?$/, "");
    if ((last.match(/`/g) || []).length % 2) last = /`$/.test(last) ? last.slice(0, -1) : last + "`";
    else {
      const bare = last.replace(/`[^`]*`/g, "");
      if ((bare.match(/\*\*/g) || []).length % 2) last = /\*\*$/.test(last) ? last.slice(0, -2) : last + "**";
      const single = last.replace(/`[^`]*`/g, "").replace(/\*\*/g, "").replace(/^\s*\*\s/, "");
      if ((single.match(/\*/g) || []).length % 2) last = /\*$/.test(last) ? last.slice(0, -1) : last + "*";
    }
    return [...lines, last].join("\n");
  };

  // The dashboard's try-it box (static/js/integrate.js) renders replies with this very renderer: loaded with
  // data-markdown, this file only publishes it (no widget, no request, nothing stored).
  if ("markdown" in script.dataset) {
    window.AIGatewayMarkdown = Object.freeze({ render: markdown, settle });
    return;
  }

  const api = (path, params) => {
    const url = new URL(path, GW);
    url.searchParams.set("key", KEY);
    for (const [k, v] of Object.entries(params || {})) url.searchParams.set(k, v);
    return url.href;
  };
  const uuid = () => {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  };

  // --- session id, per publishable key: issued by the gateway (POST /api/widget-session), never made up here ---
  const STORE = "amg-widget:" + KEY;
  const INVALID_SESSION = "Invalid session_id";
  let sessionId = null;
  try {
    sessionId = localStorage.getItem(STORE);
  } catch (e) {
    /* storage blocked: this page view only */
  }
  // An id from before the gateway issued them (a client-made UUID) is refused there: ask for one.
  if (!sessionId || !sessionId.startsWith("ws_")) sessionId = null;
  // The stored id, or a new one from the gateway; null when it cannot be had (then readError's text applies).
  const newSession = async () => {
    const res = await fetch(api("/api/widget-session"), { method: "POST" });
    if (!res.ok) return [null, res];
    sessionId = String((await res.json()).session_id || "") || null;
    try {
      if (sessionId) localStorage.setItem(STORE, sessionId);
    } catch (e) {
      /* storage blocked: this page view only */
    }
    return [sessionId, res];
  };
  const session = async () => (sessionId ? [sessionId, null] : newSession());

  // The page context the gateway accepts: an http(s) URL of at most 2,048 characters, and a title of
  // one line (controls, line separators and lone surrogates become spaces) of at most 200 code points,
  // counted as the gateway counts them, so no emoji is cut in half.
  const pageMeta = () => {
    const line = document.title.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]+/gu, " ").trim();
    const meta = { title: Array.from(line).slice(0, 200).join("") };
    if (/^https?:$/.test(location.protocol)) meta.url = location.href.slice(0, 2048);
    return meta;
  };

  // --- styles: inside the shadow root only; the wrapper resets everything inherited ---
  const CSS = `
.w{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;text-align:left}
.w *{box-sizing:border-box;font:inherit;color:inherit;margin:0;padding:0;letter-spacing:normal;text-transform:none}
.w [hidden]{display:none!important}
.l{all:initial;display:flex;align-items:center;justify-content:center;width:56px;height:56px;border-radius:50%;background:var(--c);color:var(--t);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);margin-left:auto}
.l svg{width:28px;height:28px;fill:currentColor}
.l:focus-visible,.b:focus-visible,.x:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid var(--c);outline-offset:2px}
.p{position:absolute;right:0;bottom:72px;width:min(370px,calc(100vw - 40px));height:min(540px,calc(100vh - 120px));display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden}
.h{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--c);color:var(--t)}
.h h2{flex:1;font-weight:600;font-size:16px}
.x{all:initial;cursor:pointer;color:var(--t);font:22px/1 sans-serif;padding:4px 8px;border-radius:6px}
.g{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f9fafb}
.m{max-width:85%;padding:8px 11px;border-radius:12px;background:#fff;border:1px solid #e5e7eb;overflow-wrap:anywhere;white-space:normal}
.m.u{align-self:flex-end;background:var(--c);color:var(--t);border-color:transparent;white-space:pre-wrap}
.m p+p,.m p+ul,.m p+ol,.m ul+p,.m ol+p,.m pre{margin-top:6px}
.m ul,.m ol{padding-left:20px}
.m ul{list-style:disc}.m ol{list-style:decimal}
.m li{display:list-item}
.m strong{font-weight:700}.m em{font-style:italic}
.m code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;background:#f3f4f6;border-radius:4px;padding:1px 4px}
.m pre{background:#f3f4f6;border-radius:6px;padding:8px;overflow-x:auto;white-space:pre}
.m pre code{padding:0;background:none}
.m a{color:#1d4ed8;text-decoration:underline;cursor:pointer}
.e{align-self:stretch;background:#fef2f2;border:1px solid #fecaca;color:#991b1b;border-radius:8px;padding:8px 11px}
.s{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.w form{display:flex;gap:8px;padding:12px;border-top:1px solid #e5e7eb;background:#fff}
.w textarea{flex:1;resize:none;height:44px;max-height:120px;border:1px solid #6b7280;border-radius:8px;padding:10px 12px;background:#fff;color:#111827;display:block}
.w textarea:focus{outline:3px solid var(--c);outline-offset:2px;box-shadow:0 0 0 5px #fff,0 0 0 7px #111827}
.w textarea::placeholder{color:#4b5563}
.t{display:inline-flex;gap:5px;padding:6px 2px}
.t i{width:7px;height:7px;border-radius:50%;background:#4b5563;animation:amg-dot 1.2s infinite ease-in-out}
.t i:nth-child(2){animation-delay:.2s}.t i:nth-child(3){animation-delay:.4s}
@keyframes amg-dot{0%,80%,100%{opacity:.25;transform:translateY(0)}40%{opacity:1;transform:translateY(-3px)}}
@media (prefers-reduced-motion:reduce){.t i{animation:none;opacity:.7}}
.m blockquote{border-left:3px solid #9ca3af;padding-left:8px;color:#374151}
.m blockquote,.m table{margin-top:6px}
.m table{display:block;overflow-x:auto;border-collapse:collapse;max-width:100%}
.m th,.m td{border:1px solid #d1d5db;padding:3px 6px;text-align:left}.m th{font-weight:700;background:#f3f4f6}
.f{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-top:-2px}
.s{font-size:13px;color:#374151;margin-top:6px;overflow-wrap:anywhere}.s ul{list-style:disc;padding-left:18px}
.s a{color:#1d4ed8;text-decoration:underline}.s a:focus-visible{outline:3px solid var(--c);outline-offset:2px}
.f button{all:initial;cursor:pointer;font:16px/1 system-ui,sans-serif;padding:5px 8px;border:1px solid #9ca3af;border-radius:6px;background:#fff}
.f button[aria-pressed="true"]{border-color:var(--c);box-shadow:inset 0 0 0 1px var(--c);background:#f3f4f6}
.f button:focus-visible,.f input:focus-visible{outline:3px solid var(--c);outline-offset:2px}
.f input{flex:1;min-width:120px;border:1px solid #6b7280;border-radius:6px;padding:5px 8px;background:#fff;color:#111827}
.f .k{font-size:13px;color:#374151}
.b{all:initial;cursor:pointer;font:600 14px system-ui,sans-serif;padding:0 14px;border-radius:8px;background:var(--c);color:var(--t)}
.b:disabled,textarea:disabled{opacity:.5;cursor:not-allowed}`;

  // --- the widget's DOM, in a shadow root on a host element the page's CSS cannot hide ---
  const host = el("div", { "data-amg-widget": "" });
  // Through the CSSOM, not a style attribute, so a page with a strict CSP (no inline styles) allows it.
  host.style.cssText = "all:initial!important;display:block!important;position:static!important";
  const root = host.attachShadow({ mode: "open" });
  const id = (n) => "amg-" + n;
  const launcher = el("button", { class: "l", type: "button", "aria-expanded": "false", "aria-controls": id("p") });
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  svg.append(path);
  launcher.append(svg);
  const heading = el("h2", { id: id("t") });
  const closer = el("button", { class: "x", type: "button", "aria-label": "Close chat", text: "×" });
  const log = el("div", { class: "g", role: "log", "aria-live": "polite", "aria-relevant": "additions text" });
  const input = el("textarea", { "aria-label": "Message", placeholder: "Type your message…", maxlength: "2000", rows: "1" });
  const send = el("button", { class: "b", type: "submit", text: "Send" });
  const form = el("form", {}, input, send);
  const panel = el("div", { class: "p", id: id("p"), role: "dialog", "aria-labelledby": id("t"), hidden: "" },
    el("div", { class: "h" }, heading, closer), log, form);
  const wrap = el("div", { class: "w" }, panel, launcher);
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    // A constructed stylesheet is CSSOM, which CSP's style-src does not govern: works on strict-CSP pages.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
    root.append(wrap);
  } else {
    root.append(el("style", { text: CSS }), wrap);
  }

  const setColor = (color) => {
    const c = /^#[0-9a-f]{6}$/i.test(color || "") ? color : DEFAULT_COLOR;
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
    wrap.style.setProperty("--c", c);
    wrap.style.setProperty("--t", 0.299 * r + 0.587 * g + 0.114 * b > 165 ? "#111827" : "#ffffff");
  };
  const setTitle = (title) => {
    heading.textContent = title;
    launcher.setAttribute("aria-label", title);
  };
  setColor(DEFAULT_COLOR);
  setTitle("Chat");

  const scrollDown = () => (log.scrollTop = log.scrollHeight);
  const bubble = (role, content) => {
    const node = el("div", { class: role === "user" ? "m u" : "m", "data-role": role });
    if (role === "user") node.textContent = content;
    else node.append(markdown(content));
    log.append(node);
    scrollDown();
    return node;
  };
  // A kind message for people, with the gateway's own words for screen readers and the curious.
  const showError = (text, detail) => {
    const node = el("div", { class: "e", role: "alert", "data-error": detail || "", text });
    if (detail && detail !== text) node.append(el("span", { class: "s", text: " (" + detail + ")" }));
    log.append(node);
    scrollDown();
    return node;
  };
  let usable = false;
  let busy = false;
  const setBusy = (on) => {
    busy = on;
    send.disabled = on || !usable;
    input.disabled = !usable;
  };
  const unavailable = (text, detail) => {
    usable = false;
    setBusy(false);
    wrap.dataset.state = "unavailable";
    showError(text, detail);
  };

  const open = (show) => {
    panel.hidden = !show;
    launcher.setAttribute("aria-expanded", String(show));
    if (show) {
      scrollDown();
      (usable ? input : closer).focus();
    } else launcher.focus();
  };
  launcher.addEventListener("click", () => open(panel.hidden));
  closer.addEventListener("click", () => open(false));
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      open(false);
    }
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : submit();
    }
  });

  const errorText = (status, error, retryAfter) => {
    if (status === 429) {
      if (/daily/i.test(error)) return TEXT.daily;
      const n = parseInt(retryAfter, 10);
      return "You're sending messages too quickly. Try again " + (n > 0 ? `in ${n} second${n === 1 ? "" : "s"}.` : "shortly.");
    }
    if (status === 403 && /proof of work/i.test(error)) return TEXT.failed; // safe to resend: a new puzzle is solved
    if (status === 403) return TEXT.inactive;
    if (status === 503) return TEXT.busy;
    if (status === 400 && error) return "Your message could not be sent: " + error;
    return TEXT.failed;
  };
  const readError = async (res) => {
    let error = "";
    try {
      error = String((await res.json()).error || "");
    } catch (e) {
      /* not JSON */
    }
    return [errorText(res.status, error, res.headers.get("Retry-After")), error];
  };

  // Server-sent events from a fetch body: calls onEvent(name, data) per event.
  const readEvents = async (res, onEvent) => {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = done ? "" : blocks.pop();
      for (const block of blocks) {
        let name = "message";
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) {
          let parsed = {};
          try {
            parsed = JSON.parse(data.join("\n"));
          } catch (e) {
            /* ignore a malformed event */
          }
          onEvent(name, parsed);
        }
      }
      if (done) return;
    }
  };

  // The channel's proof of work (ALTCHA v1, docs/widget.md): find n <= maxNumber with
  // SHA-256(salt + n) = challenge, in batches so the page stays responsive. Returns the X-Altcha header value.
  let powRequired = false;
  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  const proofOfWork = async () => {
    const res = await fetch(api("/api/widget-challenge"));
    if (!res.ok) throw new Error("challenge " + res.status);
    const c = await res.json();
    const encoder = new TextEncoder();
    const BATCH = 500;
    for (let start = 0; start <= c.maxNumber; start += BATCH) {
      const tries = [];
      for (let n = start; n < start + BATCH && n <= c.maxNumber; n++) {
        tries.push(crypto.subtle.digest("SHA-256", encoder.encode(c.salt + n)).then((d) => (hex(d) === c.challenge ? n : -1)));
      }
      const found = (await Promise.all(tries)).find((n) => n >= 0);
      if (found !== undefined) {
        const payload = { algorithm: c.algorithm, challenge: c.challenge, number: found, salt: c.salt, signature: c.signature };
        return btoa(JSON.stringify(payload));
      }
    }
    throw new Error("unsolvable challenge");
  };

  // The channel's knowledge the reply was given (the answer's `sources`): pages as links, other sources as text.
  const sourcesList = (reply, sources) => {
    const named = (Array.isArray(sources) ? sources : []).filter((s) => s && typeof s.title === "string");
    if (!named.length) return;
    const list = el("ul");
    for (const s of named.slice(0, 10)) {
      const href = typeof s.url === "string" && /^https?:/i.test(s.url) ? safeUrl(s.url) : null;
      const label = s.title || s.url || "Source";
      list.append(el("li", {}, href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label }) : label));
    }
    reply.append(el("div", { class: "s", role: "note", "aria-label": "Sources" }, el("span", { text: "Sources:" }), list));
  };

  // 👍/👎 under the latest reply (POST /api/feedback), then an optional comment.
  const feedbackRow = (reply, id) => {
    if (!id) return;
    const row = el("div", { class: "f", role: "group", "aria-label": "Rate this reply" });
    const note = el("span", { class: "k", role: "status" });
    const rate = async (rating, comment) => {
      const res = await fetch(api("/api/feedback"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session_id: id, rating, comment: comment || "" }),
      }).catch(() => null);
      if (!res || !res.ok) return (note.textContent = "Your feedback could not be sent."), false;
      for (const b of row.querySelectorAll("button[data-rating]")) b.setAttribute("aria-pressed", String(b.dataset.rating === rating));
      note.textContent = comment ? "Thanks for the comment!" : "Thanks!";
      return true;
    };
    const thumb = (rating, symbol, label) => {
      const b = el("button", { type: "button", "data-rating": rating, "aria-label": label, "aria-pressed": "false", text: symbol });
      b.addEventListener("click", async () => {
        if (!(await rate(rating))) return;
        if (row.querySelector("form")) return;
        const box = el("input", { type: "text", maxlength: "1000", "aria-label": "Comment (optional)", placeholder: "Tell us more (optional)" });
        const go = el("button", { type: "submit", class: "k", text: "Send" });
        const form = el("form", { class: "f" }, box, go);
        form.addEventListener("submit", async (e) => {
          e.preventDefault();
          const pressed = row.querySelector('button[aria-pressed="true"]');
          if (box.value.trim() && pressed && (await rate(pressed.dataset.rating, box.value.trim()))) form.remove();
        });
        row.append(form);
      });
      return b;
    };
    row.append(thumb("up", "👍", "Helpful"), thumb("down", "👎", "Not helpful"), note);
    reply.after(row);
  };

  const submit = async () => {
    const message = input.value;
    if (busy || !usable || !message.trim()) return;
    input.value = "";
    bubble("user", message);
    log.querySelectorAll(".f").forEach((node) => node.remove()); // feedback rates the latest reply only
    const reply = bubble("assistant", "");
    reply.dataset.state = "streaming";
    reply.setAttribute("aria-busy", "true");
    // Typing dots until the first token: no text of their own (the reply's text is what streams in).
    reply.append(el("span", { class: "t", role: "img", "aria-label": "The assistant is typing" }, el("i"), el("i"), el("i")));
    setBusy(true);
    let text = "";
    let finished = false;
    const fail = (kind, detail) => {
      reply.remove();
      showError(kind, detail);
      if (!input.value) input.value = message; // safe to resend
    };
    const send = async (id) => {
      const headers = { "Content-Type": "application/json", Accept: "text/event-stream", "Idempotency-Key": uuid() };
      if (powRequired) headers["X-Altcha"] = await proofOfWork(); // one solution per request: each is used once
      return fetch(api("/api/chat"), {
        method: "POST",
        headers,
        body: JSON.stringify({ message, session_id: id, metadata: pageMeta(), stream: true }),
      });
    };
    try {
      let [id, refused] = await session();
      if (!id) return fail(...(await readError(refused)));
      let res = await send(id);
      if (res.status === 400 && (await res.clone().json().catch(() => ({}))).error === INVALID_SESSION) {
        // The stored id is no longer accepted (e.g. the gateway's secret changed): a refused chat cost nothing, so
        // start a new session and send once more.
        [id, refused] = await newSession();
        if (!id) return fail(...(await readError(refused)));
        res = await send(id);
      }
      if (!res.ok) return fail(...(await readError(res)));
      const done = (final, sources) => {
        finished = true;
        reply.textContent = "";
        reply.append(markdown(final));
        sourcesList(reply, sources);
        reply.dataset.state = "done";
        feedbackRow(reply, id);
      };
      if (!(res.headers.get("Content-Type") || "").includes("event-stream")) {
        const answer = await res.json();
        done(String(answer.reply || ""), answer.sources);
      } else {
        await readEvents(res, (name, data) => {
          if (finished) return;
          if (name === "token" && typeof data.delta === "string") {
            text += data.delta;
            reply.textContent = "";
            reply.append(markdown(settle(text)));
            scrollDown();
          } else if (name === "done") done(typeof data.reply === "string" ? data.reply : text, data.sources);
          else if (name === "error") {
            finished = true;
            fail(TEXT.failed, String(data.error || ""));
          }
        });
        if (!finished) fail(TEXT.failed, "The reply was cut off");
      }
    } catch (e) {
      fail(TEXT.unavailable, "Network error");
    } finally {
      reply.removeAttribute("aria-busy");
      setBusy(false);
      scrollDown();
      if (!panel.hidden) input.focus();
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });

  const preview = () => {
    (document.body || document.documentElement).append(host);
    const apply = (settings) => {
      setColor(settings.color);
      setTitle(String(settings.title || "Chat"));
      log.querySelectorAll("[data-greeting]").forEach((node) => node.remove());
      if (settings.greeting) bubble("assistant", String(settings.greeting)).dataset.greeting = "";
    };
    apply({ title: script.dataset.title, greeting: script.dataset.greeting, color: script.dataset.color });
    document.addEventListener("amg-widget-preview", (event) => apply(event.detail || {}));
    input.placeholder = "Preview: messages are not sent";
    setBusy(false);
    wrap.dataset.state = "preview";
  };

  const start = async () => {
    if (PREVIEW) return preview();
    const show = () => (document.body || document.documentElement).append(host);
    if (!/^amgpk_/.test(KEY)) return show(), unavailable(TEXT.unavailable, "This widget has no publishable key");
    let config;
    try {
      const res = await fetch(api("/api/widget-config"));
      if (!res.ok) return show(), unavailable(...(await readError(res)));
      config = await res.json();
    } catch (e) {
      // Unreadable: this page's origin is not one the channel allows (the gateway grants it no CORS), or the
      // gateway is down. Either way no launcher at all; the owner sees refused origins on the dashboard.
      console.warn("AI Gateway widget: not shown. Is this page's origin (" + location.origin + ") allowed on the channel's Widget tab?");
      return;
    }
    show();
    setBusy(false);
    setColor(config.color);
    setTitle(String(config.title || "Chat"));
    if (config.greeting) bubble("assistant", String(config.greeting)).dataset.greeting = "";
    powRequired = config.pow_required === true;
    usable = true;
    setBusy(false);
    try {
      if (!sessionId) throw new Error("no session yet"); // a new visitor has no history: asked for at the first message
      const res = await fetch(api("/api/history", { session_id: sessionId }));
      if (res.status === 400) sessionId = null; // not an id the gateway issued for this channel: get one when needed
      if (res.ok) {
        let latest = null;
        for (const m of (await res.json()).messages || []) {
          if (m && (m.role === "user" || m.role === "assistant")) latest = bubble(m.role, String(m.content || ""));
          if (latest) latest.dataset.history = "";
        }
        if (latest && latest.dataset.role === "assistant") feedbackRow(latest, sessionId);
      }
    } catch (e) {
      /* no history is fine */
    }
    wrap.dataset.state = "ready";
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
