/* The agent's keyboard (F6–F11): every action of the queue and the call screen has a shortcut.
 *
 * Shortcuts use Alt so that they never collide with typing in the record's text fields; they are
 * matched on event.code (the physical key), because Alt+letter types a different character on
 * some layouts. Esc leaves the call screen (releasing the task), except inside an open
 * confirmation or an open <details> box, which it closes first. Rating radios need nothing from
 * here: Tab enters a radio group and the arrow keys choose (native).
 */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function submit(form) {
    if (!form) { return; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  // --- the call script: highlight the current step ---------------------------------------------
  function moveStep(offset) {
    var steps = $$("#script-steps .script-step");
    if (!steps.length) { return; }
    var current = steps.findIndex(function (s) { return s.classList.contains("active"); });
    var next = Math.min(Math.max((current < 0 ? 0 : current) + offset, 0), steps.length - 1);
    steps.forEach(function (s, i) {
      s.classList.toggle("active", i === next);
      if (i === next) { s.setAttribute("aria-current", "step"); } else { s.removeAttribute("aria-current"); }
    });
    steps[next].scrollIntoView({ block: "nearest" });
  }

  function openBox(id, focusSelector) {
    var box = document.getElementById(id);
    if (!box) { return; }
    box.open = true;
    var target = $(focusSelector, box);
    if (target) { target.focus(); }
  }

  function outcome(n) {
    var button = $('#outcomes [data-outcome="' + n + '"]');
    if (!button) { return; }
    if (button.value === "reschedule") {
      var when = $("#attempt-form [name=agreed_at]");
      if (when && !when.value) { when.focus(); return; } // type the agreed time, then Alt+8 again
    }
    button.click();
  }

  function onCallScreen(event) {
    if (event.key === "Escape") {
      var confirmNo = $("#confirm-no");
      if (confirmNo) { event.preventDefault(); confirmNo.click(); return true; }
      var open = $$("details[open]");
      if (open.length) { open.forEach(function (d) { d.open = false; }); event.preventDefault(); return true; }
      event.preventDefault();
      submit($("#release-form"));
      return true;
    }
    if (!event.altKey || event.ctrlKey || event.metaKey) { return false; }
    var code = event.code || "";
    if (/^(Digit|Numpad)[1-9]$/.test(code)) { outcome(code.slice(-1)); return true; }
    switch (code) {
      case "KeyN": moveStep(1); return true;
      case "KeyP": moveStep(-1); return true;
      case "KeyS": submit($("#record-form")); return true;
      case "KeyE": openBox("escalation-box", "select, textarea"); return true;
      case "KeyM": openBox("sms-box", "select"); return true;
      case "KeyR": var reveal = $("#reveal"); if (reveal) { reveal.click(); } return true;
      default: return false;
    }
  }

  // --- the queue: Alt+↓ / Alt+↑ move between the rows' claim buttons ---------------------------
  function onQueue(event) {
    if (!event.altKey || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) { return false; }
    var buttons = $$("#queue .claim-button");
    if (!buttons.length) { return false; }
    var at = buttons.indexOf(document.activeElement);
    var next = event.key === "ArrowDown" ? at + 1 : at - 1;
    buttons[Math.min(Math.max(next, 0), buttons.length - 1)].focus();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var handled = $("#call-screen") ? onCallScreen(event) : onQueue(event);
    if (handled) { event.preventDefault(); event.stopPropagation(); }
  });

  document.addEventListener("click", function (event) {
    var mover = event.target.closest("[data-step-move]");
    if (mover) { moveStep(parseInt(mover.getAttribute("data-step-move"), 10)); }
  });

  // After an htmx swap (escalation, SMS, reveal) keep the keyboard where the agent works.
  document.addEventListener("htmx:afterSwap", function (event) {
    var focus = $("[autofocus], .alert-danger a, .field-error", event.detail.target);
    var field = focus && focus.closest(".mb-2") ? $("input, select, textarea", focus.closest(".mb-2")) : null;
    if (field) { field.focus(); }
  });
})();
