// The calendar's enhancements (tribu/publishing/views/calendar.py). Without them every post
// still has a "Move" form that posts a new local date and time and comes back to the
// calendar. With them:
// - a Move form is sent in the background and the calendar's body is replaced by the
//   server's fresh copy (focus goes back to the moved post, the outcome is announced);
// - a post can be dragged to another day (month: it keeps its time of day) or to another
//   hour of the week view (it keeps its minutes); the drop fills the post's own Move form
//   and sends it the same way.
// On the ritual pages, the form shows only the fields of the chosen frequency.
(() => {
  "use strict";

  let dragged = null;

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) return meta.content;
    const match = document.cookie.match(/(?:^|;\s*)tribu_csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function calendarBody() {
    return document.querySelector("[data-calendar-body]");
  }

  function announce(text) {
    const live = document.getElementById("cal-live");
    if (!live) return;
    live.textContent = "";
    window.setTimeout(() => { live.textContent = text; }, 50);
  }

  function swap(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const fresh = template.content.querySelector("[data-calendar-body]");
    const current = calendarBody();
    if (!fresh || !current) return false;
    current.replaceWith(fresh);
    const message = fresh.querySelector("[data-calendar-message]");
    if (message) announce(message.textContent.trim());
    const moved = fresh.dataset.moved && document.getElementById(`cal-post-${fresh.dataset.moved}`);
    const link = moved && moved.querySelector("a");
    if (link) link.focus();
    return true;
  }

  async function send(form) {
    const body = calendarBody();
    if (body) body.classList.add("cal-busy");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
      });
      const type = response.headers.get("Content-Type") || "";
      if (type.includes("text/html") && swap(await response.text())) return;
    } catch (error) {
      // The network failed: fall back to the plain form below.
    }
    if (body) body.classList.remove("cal-busy");
    form.submit();
  }

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  function clearTargets() {
    for (const cell of document.querySelectorAll(".cal-drop-target")) {
      cell.classList.remove("cal-drop-target");
    }
  }

  function dropTarget(event) {
    return event.target instanceof Element ? event.target.closest("[data-drop-date]") : null;
  }

  // The ritual form shows only the fields of the chosen frequency (all of them without JS).
  function setupPresets() {
    for (const fieldset of document.querySelectorAll("[data-presets]")) {
      const update = () => {
        const chosen = fieldset.querySelector('input[name="frequency"]:checked');
        for (const part of fieldset.querySelectorAll("[data-preset]")) {
          part.hidden = !chosen || !part.dataset.preset.split(" ").includes(chosen.value);
        }
      };
      fieldset.addEventListener("change", update);
      update();
    }
  }

  function ready() {
    setupPresets();
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.matches("[data-move-form]")) return;
      if (!calendarBody()) return;
      event.preventDefault();
      send(form);
    });

    // While its Move form is open a post is not draggable, so its fields work as usual;
    // Escape closes the form and gives the focus back to its button.
    document.addEventListener("toggle", (event) => {
      const details = event.target;
      if (!(details instanceof HTMLDetailsElement) || !details.matches(".cal-move")) return;
      const post = details.closest("[data-move-url]");
      if (post) post.draggable = !details.open;
    }, true);
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !(event.target instanceof Element)) return;
      const details = event.target.closest(".cal-move[open]");
      if (!details) return;
      details.open = false;
      details.querySelector("summary").focus();
    });

    document.addEventListener("dragstart", (event) => {
      const post = event.target instanceof Element ? event.target.closest("[data-move-url]") : null;
      if (!post) return;
      dragged = post;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", post.id);
      post.classList.add("cal-dragging");
    });

    document.addEventListener("dragend", () => {
      if (dragged) dragged.classList.remove("cal-dragging");
      dragged = null;
      clearTargets();
    });

    document.addEventListener("dragover", (event) => {
      const cell = dropTarget(event);
      if (!cell || !dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      if (!cell.classList.contains("cal-drop-target")) {
        clearTargets();
        cell.classList.add("cal-drop-target");
      }
    });

    document.addEventListener("dragleave", (event) => {
      const cell = dropTarget(event);
      if (cell && !cell.contains(event.relatedTarget)) cell.classList.remove("cal-drop-target");
    });

    document.addEventListener("drop", (event) => {
      const cell = dropTarget(event);
      const post = dragged;
      if (!cell || !post) return;
      event.preventDefault();
      clearTargets();
      const form = post.querySelector("[data-move-form]");
      if (!form) return;
      const [hours, minutes] = (post.dataset.time || "09:00").split(":");
      const time = cell.dataset.dropHour === undefined
        ? `${hours}:${minutes}`
        : `${pad(cell.dataset.dropHour)}:${minutes}`;
      if (cell.dataset.dropDate === post.dataset.date && time === post.dataset.time) return;
      form.elements.date.value = cell.dataset.dropDate;
      form.elements.time.value = time;
      send(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
