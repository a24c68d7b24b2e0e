// The running sum of the cost-sharing key under its inline table. The server refuses a key
// that does not add up to 100,00 %; this only shows the sum while the coordinator types.
"use strict";
(function () {
  function parse(text) {
    // Accept 50,78 and 50.78; refuse anything else rather than guess.
    const normal = text.trim().replace(",", ".");
    return /^\d+(\.\d{1,2})?$/.test(normal) ? Math.round(parseFloat(normal) * 100) : null;
  }
  function update(group, output) {
    let hundredths = 0;
    let complete = true;
    group.querySelectorAll("input[name$='-share_percent']").forEach(function (input) {
      const row = input.closest("tr");
      const deleted = row && row.querySelector("input[name$='-DELETE']:checked");
      if (deleted || input.value.trim() === "") return;
      const value = parse(input.value);
      if (value === null) complete = false; else hundredths += value;
    });
    const lang = document.documentElement.lang || "sl";
    const shown = (hundredths / 100).toLocaleString(lang, { minimumFractionDigits: 2 });
    output.textContent = complete ? output.dataset.label + ": " + shown + " %" : output.dataset.invalid;
    output.className = "key-total " + (complete && hundredths === 10000 ? "ok" : "off");
  }
  document.addEventListener("DOMContentLoaded", function () {
    const group = document.getElementById("shares-group");
    // A read-only key (an adopted strategy) has no inputs to add up; the list shows its total.
    if (!group || !group.querySelector("input[name$='-share_percent']")) return;
    const output = document.createElement("p");
    output.dataset.label = group.dataset.totalLabel || "Skupaj";
    output.dataset.invalid = group.dataset.invalidLabel || "Delež ni število.";
    output.setAttribute("aria-live", "polite");
    group.appendChild(output);
    group.addEventListener("input", function () { update(group, output); });
    group.addEventListener("change", function () { update(group, output); });
    update(group, output);
  });
})();
