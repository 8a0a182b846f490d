// The dashboard's widget page: Copy buttons for the publishable key and the snippet, and a
// live preview that follows the title, greeting and colour fields. Loaded from /static/ (the
// CSP allows no inline scripts or style attributes; element.style set from a script is allowed).
"use strict";

(function () {
  var HEX = /^#[0-9a-fA-F]{6}$/;

  // Dark text on a light colour, white on a dark one (WCAG relative luminance).
  function textColourFor(hex) {
    var channels = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
    return luminance > 0.45 ? "#101828" : "#ffffff";
  }

  function paint(preview, colour) {
    if (!HEX.test(colour)) return;
    preview.dataset.color = colour;
    var text = textColourFor(colour);
    preview.querySelectorAll("[data-wp-accent]").forEach(function (el) {
      el.style.backgroundColor = colour;
      el.style.color = text;
    });
  }

  function setTitle(preview, value) {
    preview.querySelector("[data-wp-title]").textContent = value.trim() || "Chat with us";
  }

  function setGreeting(preview, value) {
    var bubble = preview.querySelector("[data-wp-greeting]");
    bubble.textContent = value.trim();
    bubble.hidden = !value.trim();
  }

  // The real widget (static/widget.js, loaded with data-preview) follows the same fields.
  function tellWidget(form) {
    var settings = {};
    form.querySelectorAll("[data-preview-source]").forEach(function (field) {
      settings[field.dataset.previewSource] = field.value;
    });
    document.dispatchEvent(new CustomEvent("amg-widget-preview", { detail: settings }));
  }

  function followFields(preview) {
    var form = document.querySelector("[data-widget-form]");
    if (!form) return;
    var handlers = { title: setTitle, greeting: setGreeting, color: paint };
    form.querySelectorAll("[data-preview-source]").forEach(function (field) {
      var handler = handlers[field.dataset.previewSource];
      if (!handler) return;
      field.addEventListener("input", function () {
        handler(preview, field.value);
        tellWidget(form);
      });
      handler(preview, field.value);  // the form may hold unsaved input after a refused save
    });
    window.setTimeout(function () { tellWidget(form); }, 0);
  }

  function flash(button, text) {
    var note = button.parentElement.querySelector("[data-copied]");
    if (!note) return;
    note.textContent = text;
    note.hidden = false;
    window.setTimeout(function () { note.hidden = true; }, 2500);
  }

  function copy(text) {
    if (window.AIGateway && window.AIGateway.writeClipboard) return window.AIGateway.writeClipboard(text);
    return navigator.clipboard.writeText(text);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copyFrom);
    if (!source) return;
    copy(source.textContent.trim())
      .then(function () { flash(button, "Copied!"); })
      .catch(function () { flash(button, "Copy failed: select the text and copy it."); });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var preview = document.querySelector("[data-widget-preview]");
    if (!preview) return;
    paint(preview, preview.dataset.color || "");
    followFields(preview);
  });
})();
