/* Q1: show a conditional question only while the answer it depends on is one of its values.
   The server decides what is required; this only spares the person questions that do not apply.
   Loaded once per page however many forms include it; works after htmx swaps as well. */
(function () {
  "use strict";
  if (window.careloopSurvey) { window.careloopSurvey.refresh(document); return; }

  function answerOf(form, name) {
    var picked = [];
    form.querySelectorAll("[name='" + name + "']").forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox")) {
        if (input.checked) { picked.push(input.value); }
      } else if (input.value !== "") {
        picked.push(input.value);
      }
    });
    return picked;
  }

  function isShown(form, block, depth) {
    var parentName = block.getAttribute("data-condition-question");
    if (!parentName) { return true; }
    if (depth > 20) { return false; }
    var parent = form.querySelector("[data-question='" + parentName + "']");
    if (parent && !isShown(form, parent, depth + 1)) { return false; }
    var wanted;
    try { wanted = JSON.parse(block.getAttribute("data-condition-values") || "[]"); } catch (e) { wanted = []; }
    return answerOf(form, parentName).some(function (v) { return wanted.indexOf(v) !== -1; });
  }

  function refresh(root) {
    (root || document).querySelectorAll("[data-survey-form]").forEach(function (form) {
      form.querySelectorAll("[data-condition-question]").forEach(function (block) {
        var shown = isShown(form, block, 0);
        block.hidden = !shown;
        // A hidden question must not keep the browser from submitting.
        block.querySelectorAll("input, textarea, select").forEach(function (input) {
          input.disabled = !shown;
        });
      });
    });
  }

  window.careloopSurvey = { refresh: refresh };
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("[data-survey-form]")) { refresh(document); }
  });
  document.addEventListener("htmx:load", function (event) { refresh(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { refresh(document); });
  } else {
    refresh(document);
  }
})();
