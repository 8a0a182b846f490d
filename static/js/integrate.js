// The integration page: the revealed key goes into every example, Copy on an example,
// and the try-it box, which sends a real streaming chat through POST /api/chat.
// Loaded after app.js, whose window.AIGateway.revealKey runs the reveal flow
// (recent password, recorded reveal): the key is never in the page until then.
"use strict";

(function () {
  var page = document.querySelector("[data-integration]");
  if (!page) return;
  var keybox = page.querySelector("[data-keybox]");

  function fillKey(text) {
    page.querySelectorAll("[data-key-slot]").forEach(function (slot) { slot.textContent = text; });
  }

  function channelKey() {
    if (!keybox) return Promise.reject(new Error("This channel has no active key."));
    return window.AIGateway.revealKey(keybox);
  }

  if (keybox) {
    keybox.addEventListener("keybox:change", function (event) {
      fillKey(event.detail.key || keybox.dataset.masked);
    });
  }

  function flash(note, text) {
    note.textContent = text;
    note.hidden = false;
    window.setTimeout(function () { note.hidden = true; }, 2500);
  }

  page.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-example]");
    if (!button) return;
    var example = button.closest(".example");
    var note = example.querySelector("[data-copied]");
    channelKey()
      .then(function () { return window.AIGateway.writeClipboard(example.querySelector("pre").textContent); })
      .then(function () { flash(note, "Copied!"); })
      .catch(function (err) { if (err.message !== "reauth") { flash(note, err.message); } });
  });

  // --- Examples as language tabs: one shown at a time (all of them without JavaScript) ---

  var tabs = page.querySelectorAll("[data-example-tab]");
  function showExample(slug) {
    tabs.forEach(function (tab) {
      var on = tab.dataset.exampleTab === slug;
      if (on) { tab.setAttribute("aria-current", "true"); } else { tab.removeAttribute("aria-current"); }
      tab.classList.toggle("active", on);
      document.getElementById("example-" + tab.dataset.exampleTab).hidden = !on;
    });
  }
  if (tabs.length) {
    tabs.forEach(function (tab) {
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        showExample(tab.dataset.exampleTab);
        window.history.replaceState(null, "", "#example-" + tab.dataset.exampleTab);
      });
    });
    var wanted = window.location.hash.replace("#example-", "");
    var known = Array.prototype.some.call(tabs, function (tab) { return tab.dataset.exampleTab === wanted; });
    showExample(known ? wanted : tabs[0].dataset.exampleTab);
  }

  // --- Try it ---

  var box = page.querySelector("[data-try-it]");
  if (!box) return;
  var form = box.querySelector("[data-try-form]");
  var send = box.querySelector("[data-try-send]");
  var statusLine = box.querySelector("[data-try-status]");
  var exchange = box.querySelector("[data-try-exchange]");
  var question = box.querySelector("[data-try-question]");
  var output = box.querySelector("[data-try-output]");
  var after = box.querySelector("[data-try-after]");

  // One conversation per page load, so a few tries keep their context.
  var bytes = new Uint8Array(6);
  window.crypto.getRandomValues(bytes);
  var sessionId = "dashboard-try-" + Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  box.querySelector("[data-try-session]").textContent = sessionId;
  box.querySelector("[data-try-link]").href = box.dataset.conversationsUrl + "?q=" + encodeURIComponent(sessionId);

  function setStatus(text) { statusLine.textContent = text; }

  // The reply as Markdown, through the widget's own renderer (static/widget.js, loaded here with
  // data-markdown): DOM nodes built from text, never the reply's HTML, so the widget, the transcript
  // and this box show a reply alike. While it streams, an unfinished marker is closed or held back.
  function showReply(text, streaming) {
    var md = window.AIGatewayMarkdown;
    output.replaceChildren(md.render(streaming ? md.settle(text) : text));
  }

  // Server-sent events: "event:" and "data:" lines, dispatched at each blank line; ":" lines are keep-alives.
  async function readEvents(response, onEvent) {
    var reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    var buffered = "";
    var name = "";
    var data = [];
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) return;
      buffered += chunk.value;
      var end;
      while ((end = buffered.indexOf("\n")) >= 0) {
        var line = buffered.slice(0, end).replace(/\r$/, "");
        buffered = buffered.slice(end + 1);
        if (line === "") {
          if (data.length) { onEvent(name || "message", JSON.parse(data.join("\n"))); }
          name = "";
          data = [];
        } else if (line.startsWith("event:")) {
          name = line.slice(6).trim();
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      }
    }
  }

  async function chat(key, message) {
    var response = await fetch(box.dataset.endpoint, {
      method: "POST",
      credentials: "omit",  // an API call like any client's: the key, no dashboard cookie
      cache: "no-store",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream", "X-API-Key": key },
      body: JSON.stringify({ message: message, session_id: sessionId, stream: true })
    });
    var type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.startsWith("text/event-stream")) {
      var body = await response.json().catch(function () { return {}; });
      throw new Error(body.error || "The gateway answered " + response.status + ".");
    }
    var pieces = 0;
    var text = "";
    var reply = null;
    await readEvents(response, function (name, data) {
      if (name === "token") {
        text += data.delta;
        showReply(text, true);
        pieces += 1;
        setStatus("Receiving… " + pieces + (pieces === 1 ? " piece" : " pieces"));
      } else if (name === "done") {
        reply = data.reply;
      } else if (name === "error") {
        throw new Error(data.error);
      }
    });
    if (reply === null) throw new Error("The stream ended before the reply was complete.");
    return reply;
  }

  // Sudo mode: a send that needed the password first keeps its typed text, and is sent once
  // the browser is back here with the key (sessionStorage: this tab only, gone when it closes).
  var pendingKey = "aigateway-try:" + window.location.pathname;
  var pending = window.sessionStorage.getItem(pendingKey);
  if (pending !== null) {
    window.sessionStorage.removeItem(pendingKey);
    form.elements.message.value = pending;
    if (keybox && keybox.dataset.revealed === "1") {
      window.setTimeout(function () { form.requestSubmit(); }, 0);
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var message = form.elements.message.value;
    if (!message.trim()) { setStatus("Type a message first."); return; }
    send.disabled = true;
    setStatus("Getting the key…");
    try {
      var key = await channelKey();
      question.textContent = message;
      output.textContent = "";
      output.dataset.state = "streaming";
      output.classList.remove("try-error");
      exchange.hidden = false;
      setStatus("Waiting for the first piece…");
      showReply(await chat(key, message), false);  // the final reply, as stored
      output.dataset.state = "done";
      setStatus("Done: stored in the transcript, one credit spent.");
      var left = page.querySelector("[data-credits-left]");
      if (left) { left.textContent = String(Math.max(0, parseInt(left.textContent, 10) - 1)); }
      after.hidden = false;
    } catch (err) {
      if (err.message === "reauth") {  // the browser is on its way to the password page
        window.sessionStorage.setItem(pendingKey, message);
        return;
      }
      output.dataset.state = "error";
      output.classList.add("try-error");
      setStatus(err.message);
    } finally {
      send.disabled = false;
    }
  });
})();
