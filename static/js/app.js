// Small glue only: everything works without it.
"use strict";
document.addEventListener("click", (event) => {
  // Select the whole value of a read-only copy field on click, ready for Ctrl/Cmd+C.
  const target = event.target;
  if (target instanceof HTMLInputElement && target.classList.contains("copy")) target.select();
});
// After a boosted navigation, move focus to the main area so screen readers announce it.
document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail && event.detail.boosted) document.getElementById("main")?.focus();
});
