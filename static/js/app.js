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
// Copy and share buttons (door links): shown only where the browser can do it; the link
// stays in a read-only field for everyone else.
function showHandOverButtons(root) {
  root.querySelectorAll("[data-copy]").forEach((button) => {
    if (navigator.clipboard && window.isSecureContext) button.hidden = false;
  });
  root.querySelectorAll("[data-share-url]").forEach((button) => {
    if (typeof navigator.share === "function") button.hidden = false;
  });
}
document.addEventListener("DOMContentLoaded", () => showHandOverButtons(document));
document.addEventListener("htmx:afterSettle", (event) => showHandOverButtons(event.target));
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy], [data-share-url]") : null;
  if (!button) return;
  const status = button.parentElement?.querySelector("[role=status]");
  try {
    if (button.dataset.copy) {
      const field = document.getElementById(button.dataset.copy);
      await navigator.clipboard.writeText(field ? field.value : "");
      if (status) status.textContent = button.dataset.copied || "";
    } else {
      await navigator.share({ title: button.dataset.shareTitle, url: button.dataset.shareUrl });
    }
  } catch (error) {
    // Cancelled share sheet or refused clipboard: the field is still there to copy from.
  }
});
// The language links keep the page's address, query string included, also once htmx has
// changed it (the home page's live results push their URL): switching keeps the search.
function keepLanguageLinksHere() {
  const here = location.pathname + location.search;
  document.querySelectorAll(".lang a[hreflang]").forEach((link) => {
    const url = new URL(link.href);
    url.searchParams.set("next", here);
    link.href = url.pathname + url.search;
  });
}
document.addEventListener("htmx:pushedIntoHistory", keepLanguageLinksHere);
document.addEventListener("htmx:historyRestore", keepLanguageLinksHere);
window.addEventListener("popstate", () => setTimeout(keepLanguageLinksHere));
