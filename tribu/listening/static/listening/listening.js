// Listening pages: keyboard navigation of the mention stream, selection helpers and small
// HTMX niceties. Every action also works without this file (plain forms and links).
(() => {
  "use strict";

  const ITEM = "[data-mention]";

  function items() {
    return Array.from(document.querySelectorAll(ITEM));
  }

  function current() {
    const active = document.activeElement;
    return active ? active.closest(ITEM) : null;
  }

  function focusItem(item) {
    if (!item) return;
    for (const other of document.querySelectorAll(".mention-current")) {
      other.classList.remove("mention-current");
    }
    item.classList.add("mention-current");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const list = items();
    if (!list.length) return;
    const here = current();
    let index = here ? list.indexOf(here) + step : step > 0 ? 0 : list.length - 1;
    index = Math.max(0, Math.min(list.length - 1, index));
    focusItem(list[index]);
  }

  // Submit one of the item's own action forms (star, read...), through HTMX when present.
  function act(item, name) {
    const form = item && item.querySelector(`form[data-action="${name}"]`);
    if (!form) return;
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    return Boolean(
      target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"),
    );
  }

  function toggleHelp() {
    const dialog = document.getElementById("shortcuts");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else if (dialog.showModal) dialog.showModal();
    else dialog.setAttribute("open", "");
  }

  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    const dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open && event.key !== "?") return;
    const item = current();
    switch (event.key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "o":
      case "Enter": {
        // Enter on a link or button inside the item keeps its usual meaning.
        if (event.key === "Enter" && event.target !== item) return;
        const link = item && item.querySelector("a[data-open]");
        if (!link) return;
        window.location.assign(link.href);
        break;
      }
      case "v": {
        const link = item && item.querySelector("a[data-original]");
        if (!link) return;
        window.open(link.href, "_blank", "noopener,noreferrer");
        break;
      }
      case "s":
        act(item, "star");
        break;
      case "m":
        act(item, "read");
        break;
      case "h":
        act(item, "hide");
        break;
      case "x": {
        const box = item && item.querySelector("input[type=checkbox][data-select]");
        if (!box) return;
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
        break;
      }
      case "?":
        toggleHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  function updateSelection() {
    const count = document.querySelectorAll("input[data-select]:checked").length;
    const counter = document.getElementById("selected-count");
    if (counter) counter.textContent = counter.dataset.template.replace("{n}", String(count));
    for (const button of document.querySelectorAll("[data-needs-selection]")) {
      button.disabled = count === 0;
    }
  }

  function bindConfirm(root) {
    // tribu.js binds data-confirm on page load; forms that HTMX brings in need it too.
    for (const form of root.querySelectorAll("form[data-confirm]:not([data-confirm-bound])")) {
      form.dataset.confirmBound = "1";
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.addEventListener("keydown", onKey);
    document.addEventListener("change", (event) => {
      if (event.target.matches && event.target.matches("input[data-select]")) updateSelection();
      if (event.target.matches && event.target.matches("input[data-select-all]")) {
        for (const box of document.querySelectorAll("input[data-select]")) {
          box.checked = event.target.checked;
        }
        updateSelection();
      }
    });
    document.addEventListener("focusin", (event) => {
      const item = event.target.closest && event.target.closest(ITEM);
      if (item) {
        for (const other of document.querySelectorAll(".mention-current")) {
          if (other !== item) other.classList.remove("mention-current");
        }
        item.classList.add("mention-current");
      }
    });
    for (const button of document.querySelectorAll("[data-shortcuts-toggle]")) {
      button.hidden = false;
      button.addEventListener("click", toggleHelp);
    }
    for (const button of document.querySelectorAll("[data-shortcuts-close]")) {
      button.addEventListener("click", toggleHelp);
    }
    // Keep the item focused after HTMX replaced it (star, read, hide): the old element is
    // gone, so remember its id and focus the new one when HTMX loads it.
    let refocus = null;
    document.body.addEventListener("htmx:beforeSwap", (event) => {
      const target = event.detail.target;
      const here = current();
      refocus = target && here && target === here ? here.id : null;
    });
    document.body.addEventListener("htmx:load", (event) => {
      const element = event.detail.elt;
      if (refocus && element && element.id === refocus) {
        refocus = null;
        focusItem(element);
      }
      bindConfirm(document);
      updateSelection();
    });
    bindConfirm(document);
    updateSelection();
  });
})();
