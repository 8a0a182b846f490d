/* /api/docs/: accessibility touches Swagger UI leaves out, applied as it draws (it re-renders often). */
(function () {
  "use strict";
  function fix(root) {
    root.querySelectorAll("select:not([aria-label])").forEach(function (select) {
      if (select.labels && select.labels.length) return;
      var label = select.closest(".examples-select") ? "Example" :
        select.closest(".content-type-wrapper, .body-param-content-type") ? "Media type" : "Choice";
      select.setAttribute("aria-label", label);
    });
    // The operation's summary is one button; a link inside it is a control in a control.
    root.querySelectorAll(".opblock-summary-control a[href]").forEach(function (link) {
      link.removeAttribute("href");
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; fix(document); });
  }).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", function () { fix(document); });
})();
