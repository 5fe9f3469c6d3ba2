// Small behaviours the pages share, with no inline script (the CSP forbids it).
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) {
    window.print();
  }
});
// A filter's check-box drop-down (a <details>) closes when the reader clicks elsewhere or
// presses Escape, as a drop-down does; without script it closes from its own summary.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.rcc-multi[open]").forEach(function (open) {
    if (!open.contains(event.target)) {
      open.removeAttribute("open");
    }
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape") {
    document.querySelectorAll("details.rcc-multi[open]").forEach(function (open) {
      open.removeAttribute("open");
    });
  }
});
// Its summary names what is ticked as the reader ticks it, as the page does once filtered.
document.addEventListener("change", function (event) {
  var box = event.target;
  var list = box.closest && box.closest("details.rcc-multi");
  if (!list) {
    return;
  }
  var chosen = Array.prototype.map.call(
    list.querySelectorAll("input[type=checkbox]:checked"),
    function (ticked) { return ticked.parentElement.textContent.trim(); }
  );
  list.querySelector("summary").textContent = chosen.join(", ") || list.dataset.any;
});
