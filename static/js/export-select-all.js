// The "Select all" box on django-import-export's export page. The library binds it with an inline
// onchange attribute, which the Content Security Policy refuses; the page's template
// (templates/admin/import_export/export.html) drops the attribute and loads this instead.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input.select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", function () {
      const boxes = document.querySelectorAll(".selectable-field-export-row input[type='checkbox']");
      boxes.forEach(function (box) {
        box.checked = toggle.checked;
      });
    });
  });
});
