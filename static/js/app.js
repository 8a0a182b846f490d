// AI Gateway dashboard: key reveal and copy (also used by integrate.js through window.AIGateway). Plain JavaScript, loaded from /static/ (the CSP allows no inline scripts).
"use strict";

(function () {
  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function flash(box, text) {
    var note = box.querySelector("[data-copied]");
    if (!note) return;
    note.textContent = text;
    note.hidden = false;
    window.setTimeout(function () { note.hidden = true; }, 2500);
  }

  function writeClipboard(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  // Ask the server for the key's plaintext. It answers 403 with a reauth_url when the
  // password was last entered too long ago; then the browser goes there and comes back.
  function reveal(box) {
    if (box.dataset.revealed === "1") {
      return Promise.resolve(box.querySelector("[data-key-text]").textContent);
    }
    var form = box.querySelector("form[data-reveal]");
    return fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(form) },
      body: new FormData(form)  // its return_to, if any, says where the password page should lead back to
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.status === 403 && data.reauth_url) {
          window.location.assign(data.reauth_url);
          throw new Error("reauth");
        }
        if (!response.ok) {
          throw new Error(data.error || "Could not reveal the key.");
        }
        var text = box.querySelector("[data-key-text]");
        text.textContent = data.key;
        text.classList.add("revealed");
        box.dataset.revealed = "1";
        form.querySelector("button").textContent = "Hide";
        announce(box, data.key);
        return data.key;
      });
    });
  }

  function hide(box) {
    var text = box.querySelector("[data-key-text]");
    text.textContent = box.dataset.masked;
    text.classList.remove("revealed");
    box.dataset.revealed = "0";
    box.querySelector("form[data-reveal] button").textContent = "Reveal";
    announce(box, null);
  }

  // Other scripts (the integration page's) follow the key through this event: detail.key is
  // the plaintext after a reveal, null after Hide.
  function announce(box, key) {
    box.dispatchEvent(new CustomEvent("keybox:change", { bubbles: true, detail: { key: key } }));
  }

  window.AIGateway = { revealKey: reveal, writeClipboard: writeClipboard };

  // Times: the server writes UTC; shown in the owner's own time zone, UTC kept on hover (title).
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var at = new Date(el.getAttribute("datetime"));
    if (isNaN(at)) return;
    var options = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
    if (el.dataset.local === "seconds") { options.second = "2-digit"; }
    if (at.getFullYear() !== new Date().getFullYear()) { options.year = "numeric"; }
    el.textContent = new Intl.DateTimeFormat(undefined, options).format(at);
  });

  // After a password confirmation the action the owner started is posted again (sudo mode).
  var resume = document.querySelector("form[data-autosubmit]");
  if (resume) { resume.submit(); }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-reveal]")) {
      event.preventDefault();
      var box = form.closest("[data-keybox]");
      if (box.dataset.revealed === "1") { hide(box); return; }
      reveal(box).catch(function (err) { if (err.message !== "reauth") { flash(box, err.message); } });
    } else if (form.matches("form[data-confirm]")) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var box = button.closest("[data-keybox]");
    reveal(box)
      .then(writeClipboard)
      .then(function () { flash(box, "Copied!"); })
      .catch(function (err) { if (err.message !== "reauth") { flash(box, "Copy failed: select the key and copy it."); } });
  });

  // The top bar's menus: one open at a time, closed by a click elsewhere or Escape.
  var menus = document.querySelectorAll("details.menu");
  function closeMenus(except) {
    menus.forEach(function (menu) { if (menu !== except) { menu.open = false; } });
  }
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () { if (menu.open) { closeMenus(menu); } });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("details.menu")) { closeMenus(null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = document.querySelector("details.menu[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });
})();
