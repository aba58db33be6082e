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
// CSRF tokens are bound to the session (web/csrf.py): they change at login and logout. A
// boosted navigation swaps the body's content but not the body's attributes, so take the
// htmx header's token from the new page (forms carry their own, fresh in the new content).
document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  if (!detail || !detail.boosted || !detail.xhr || !detail.xhr.responseText) return;
  const page = new DOMParser().parseFromString(detail.xhr.responseText, "text/html");
  const headers = page.body && page.body.getAttribute("hx-headers");
  if (headers) document.body.setAttribute("hx-headers", headers);
});
