// govstd pages: what htmx's answers ask for. Every page works without this file.
// "govstd:conditions" (sent by the server in HX-Trigger after it evaluated the form's
// conditions with its own CEL engine) names the parts whose condition is false: they are
// hidden and their inputs disabled (so they are not submitted); the others are shown.
(function () {
  "use strict";
  document.addEventListener("govstd:conditions", function (event) {
    var hidden = new Set((event.detail && event.detail.hidden) || []);
    document.querySelectorAll("[data-when]").forEach(function (box) {
      box.hidden = hidden.has(box.getAttribute("data-when"));
    });
    document.querySelectorAll("[data-when] input, [data-when] select, [data-when] textarea")
      .forEach(function (input) {
        input.disabled = input.closest("[data-when][hidden]") !== null;
      });
  });
})();
