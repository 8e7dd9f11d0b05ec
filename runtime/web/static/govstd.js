// govstd pages: what htmx's answers ask for. Every page works without this file.
(function () {
  "use strict";
  // With scripts the form follows the answers by itself: no "update the form" button.
  document.documentElement.classList.add("js");

  // "govstd:conditions" (sent by the server in HX-Trigger after it evaluated the form's
  // conditions with its own CEL engine) names the parts whose condition is false: they are
  // hidden and their inputs disabled (so they are not submitted); the others are shown.
  // It also names the fields required now: their asterisks follow.
  document.addEventListener("govstd:conditions", function (event) {
    var detail = event.detail || {};
    var hidden = new Set(detail.hidden || []);
    var required = new Set(detail.required || []);
    document.querySelectorAll("[data-when]").forEach(function (box) {
      box.hidden = hidden.has(box.getAttribute("data-when"));
    });
    document.querySelectorAll(
      "[data-when] input, [data-when] select, [data-when] textarea, [data-when] button"
    ).forEach(function (input) {
      input.disabled = input.closest("[data-when][hidden]") !== null;
    });
    document.querySelectorAll("[data-required]").forEach(function (mark) {
      mark.hidden = !required.has(mark.getAttribute("data-required"));
    });
  });

  // After a repeating group's row was added or removed: focus the new row's first input,
  // or the group's add button.
  document.addEventListener("htmx:afterSettle", function (event) {
    var trigger = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    var action = trigger && trigger.getAttribute && trigger.getAttribute("value");
    if (!action) { return; }
    var parts = action.split(":");
    var section = document.getElementById("section-" + parts[1]);
    if (!section) { return; }
    var target = null;
    if (parts[0] === "add") {
      var rows = section.querySelectorAll(".group-row");
      var last = rows[rows.length - 1];
      target = last && last.querySelector("input, select, textarea");
    } else if (parts[0] === "remove") {
      target = section.querySelector("button[value^='add:']");
    }
    if (target) { target.focus(); }
  });
})();
