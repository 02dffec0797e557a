// The composer's enhancements (tribu/publishing/views/compose.py). The page works without
// them: every field is a plain form field and every button a plain submission. With them:
// per-channel texts follow the main text until customised, thread parts are added and
// removed in place, autosave reports its state, and the first autosave of a new post points
// the form at the draft it created.
(() => {
  "use strict";

  function ready(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback);
    } else {
      callback();
    }
  }

  function changed(element) {
    element.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setupVariants(form, main) {
    const variants = Array.from(form.querySelectorAll("[data-variant]"));
    const parts = (variant) => ({
      box: variant.querySelector("input[type=checkbox]"),
      area: variant.querySelector("textarea"),
      body: variant.querySelector("[data-variant-body]"),
    });
    // A channel's text follows the main text until someone customises it.
    function follow() {
      for (const variant of variants) {
        const { box, area, body } = parts(variant);
        if (!box || !area || !body) continue;
        body.hidden = !box.checked;
        if (!box.checked) area.value = main.value;
      }
    }
    // Only the chosen channels show their text.
    function showChosen() {
      let chosen = 0;
      for (const choice of form.querySelectorAll("[data-channel-choice]")) {
        const variant = form.querySelector(`[data-variant="${choice.dataset.channelChoice}"]`);
        if (variant) variant.hidden = !choice.checked;
        if (choice.checked) chosen += 1;
      }
      const fieldset = form.querySelector("[data-variants]");
      if (fieldset) fieldset.hidden = chosen === 0;
    }
    for (const variant of variants) {
      const { box, area } = parts(variant);
      if (!box || !area) continue;
      box.addEventListener("change", () => {
        if (box.checked && !area.value.trim()) area.value = main.value;
        follow();
        if (box.checked) area.focus();
      });
      const reset = variant.querySelector("[data-variant-reset]");
      if (reset) {
        reset.addEventListener("click", () => {
          box.checked = false;
          follow();
          box.dispatchEvent(new Event("change", { bubbles: true }));
          box.focus();
        });
      }
    }
    main.addEventListener("input", follow);
    for (const choice of form.querySelectorAll("[data-channel-choice]")) {
      choice.addEventListener("change", showChosen);
    }
    showChosen();
    follow();
  }

  function setupThread(form) {
    const list = form.querySelector("[data-thread-list]");
    const template = form.querySelector("template[data-thread-template]");
    const add = form.querySelector("[data-thread-add]");
    if (!list || !template || !add) return;
    const label = list.dataset.partLabel || "{n}";
    function renumber() {
      Array.from(list.children).forEach((item, index) => {
        const number = index + 2; // the main text is part 1
        const area = item.querySelector("textarea");
        const caption = item.querySelector("label");
        area.id = `thread-${number}`;
        caption.htmlFor = area.id;
        caption.textContent = label.replace("{n}", String(number));
      });
    }
    // Without JavaScript an empty part waits at the end; with it, "Add a part" does.
    for (const extra of list.querySelectorAll("[data-thread-extra]")) {
      if (!extra.querySelector("textarea").value.trim()) extra.remove();
    }
    renumber();
    add.addEventListener("click", () => {
      const item = template.content.firstElementChild.cloneNode(true);
      list.appendChild(item);
      renumber();
      item.querySelector("textarea").focus();
    });
    list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-thread-remove]");
      if (!button) return;
      const item = button.closest("li");
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      renumber();
      form.dispatchEvent(new Event("change", { bubbles: true }));
      (next ? next.querySelector("textarea") : add).focus();
    });
  }

  function setupHashtags(main) {
    document.addEventListener("click", (event) => {
      const button = event.target.closest("[data-add-hashtags]");
      if (!button) return;
      const body = main.value.replace(/\s+$/, "");
      main.value = body ? `${body}\n${button.dataset.addHashtags}` : button.dataset.addHashtags;
      changed(main);
      main.focus();
    });
  }

  function setupAutosave(form) {
    const status = document.querySelector("[data-autosave-status]");
    let edits = 0;
    let savedEdits = 0;
    let sentEdits = 0;
    let submitting = false;
    const autosave = () => document.querySelector("[data-autosave]");
    const isAutosave = (event) => autosave() !== null && event.detail.elt === autosave();

    form.addEventListener("input", () => { edits += 1; });
    form.addEventListener("change", () => { edits += 1; });
    form.addEventListener("submit", () => { submitting = true; });

    document.body.addEventListener("htmx:beforeRequest", (event) => {
      if (!isAutosave(event)) return;
      sentEdits = edits;
      if (status) status.textContent = status.dataset.savingText;
    });
    // The server explains a refused autosave (409, 422): show its words.
    document.body.addEventListener("htmx:beforeSwap", (event) => {
      if (!isAutosave(event)) return;
      const code = event.detail.xhr.status;
      if (code === 409 || code === 422) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:afterRequest", (event) => {
      if (!isAutosave(event)) return;
      const code = event.detail.xhr ? event.detail.xhr.status : 0;
      if (code === 200) {
        savedEdits = sentEdits;
      } else if (code !== 409 && code !== 422 && status) {
        // Nothing is lost: the text stays in the page and the next change tries again.
        status.textContent = status.dataset.errorText;
      }
    });
    document.body.addEventListener("htmx:sendError", (event) => {
      if (isAutosave(event) && status) status.textContent = status.dataset.errorText;
    });

    // The first autosave created the draft: later saves go to it.
    document.body.addEventListener("tribu:draft-created", (event) => {
      const detail = event.detail || {};
      if (!detail.edit_url) return;
      form.action = detail.edit_url;
      const postId = form.querySelector("[data-post-id]");
      if (postId) postId.value = detail.post_id;
      window.history.replaceState(null, "", detail.edit_url);
      // After htmx has finished with this response, point the autosave at the draft.
      window.setTimeout(() => {
        const element = autosave();
        if (element && window.htmx) {
          element.setAttribute("hx-post", detail.autosave_url);
          window.htmx.process(element);
        }
      }, 50);
    });

    window.addEventListener("beforeunload", (event) => {
      if (submitting || edits === savedEdits) return;
      event.preventDefault();
      event.returnValue = form.dataset.leaveWarning || "";
    });
  }

  ready(() => {
    const form = document.querySelector("form[data-composer]");
    if (!form) return;
    const main = form.querySelector("textarea[name=text]");
    if (main) {
      setupVariants(form, main);
      setupHashtags(main);
    }
    setupThread(form);
    setupAutosave(form);
  });
})();
