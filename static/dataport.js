// dataport: small progressive enhancements. Every page works without this file.
"use strict";

// Catalog: filter the cards as the user types or picks a category, without a
// round trip. The form still submits to the server when JS is off.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-live-filter]");
  if (!form) return;
  const search = form.querySelector("input[name=q]");
  const category = form.querySelector("select[name=category]");
  const cards = Array.from(document.querySelectorAll(".card[data-search]"));
  const count = document.querySelector("[data-count]");
  const apply = () => {
    const words = search.value.trim().toLowerCase();
    const shelf = category.value.toLowerCase();
    let shown = 0;
    for (const card of cards) {
      const match = card.dataset.search.toLowerCase().includes(words) &&
        (shelf === "" || card.dataset.category.toLowerCase() === shelf);
      card.hidden = !match;
      if (match) shown += 1;
    }
    if (count) count.textContent = `${shown} app${shown === 1 ? "" : "s"}`;
    const url = new URL(window.location.href);
    url.searchParams.set("q", search.value);
    url.searchParams.set("category", category.value);
    history.replaceState(null, "", url);
  };
  search.addEventListener("input", apply);
  category.addEventListener("change", apply);
});

// Install form: show only the fields that apply to the current toggles and
// choices. Without JS every field shows, with a note saying when it applies,
// and the server ignores the ones that do not.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-install-form]");
  if (!form) return;
  const valueOf = (key) => {
    const input = form.elements.namedItem(key);
    if (!input) return "";
    if (input.type === "checkbox") return input.checked ? "true" : "false";
    return input.value;
  };
  const refresh = () => {
    for (const field of form.querySelectorAll("[data-shown-when]")) {
      const when = JSON.parse(field.dataset.shownWhen || "{}");
      field.hidden = !Object.entries(when).every(([key, value]) => valueOf(key) === value);
      const note = field.querySelector(".when");
      if (note) note.hidden = true;
    }
  };
  form.addEventListener("change", refresh);
  refresh();
});

// Session jobs (instance page and job page): Flink's job state and the last
// savepoint update in place from the live status.
const updateJobs = (jobs) => {
  for (const job of jobs || []) {
    for (const row of document.querySelectorAll(`[data-job="${CSS.escape(job.name)}"]`)) {
      for (const state of row.querySelectorAll("[data-job-state]")) {
        if (state.textContent !== job.state) state.textContent = job.state;
        if (state.classList.contains("status")) state.className = `status job-${job.state.toLowerCase()}`;
      }
      const lifecycle = row.querySelector("[data-job-lifecycle]");
      if (lifecycle && job.lifecycle && lifecycle.textContent !== job.lifecycle) {
        lifecycle.textContent = job.lifecycle;
      }
      const savepoint = row.querySelector("[data-job-savepoint]");
      if (savepoint && job.savepoint && savepoint.textContent !== job.savepoint) {
        savepoint.textContent = job.savepoint;
      }
    }
  }
};

document.addEventListener("DOMContentLoaded", () => {
  const page = document.querySelector("[data-live-jobs]");
  if (!page || !window.EventSource) return;
  const source = new EventSource(page.dataset.liveJobs);
  source.addEventListener("status", (message) => updateJobs(JSON.parse(message.data).jobs));
});

// Instance page: follow the instance live (server-sent events). The status
// word and the Objects panel's cluster states update in place; when the latest operation moves on, the page reloads
// to show its outcome. Without JS the page refreshes itself while busy.
document.addEventListener("DOMContentLoaded", () => {
  const head = document.querySelector("[data-live]");
  if (!head || !window.EventSource) return;
  const source = new EventSource(head.dataset.live);
  let shownObjects = null;
  source.addEventListener("status", (message) => {
    const live = JSON.parse(message.data);
    updateJobs(live.jobs);
    const objects = document.querySelector("[data-observed-live]");
    if (objects && live.observed !== shownObjects) {
      objects.innerHTML = live.observed;
      shownObjects = live.observed;
    }
    const status = document.querySelector("[data-status]");
    if (status && status.textContent !== live.status) {
      status.textContent = live.status;
      status.className = `status status-${live.status.toLowerCase()}`;
    }
    const op = live.operation;
    const state = op ? `${op.kind}:${op.state}:${op.progress || ""}` : "";
    if (state !== head.dataset.operationState) {
      source.close();
      window.location.reload();
    }
  });
});

// Instance page: the pods panel follows the pods live (server-sent events
// carrying the panel's server-rendered HTML). Without JS it is as loaded.
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector("[data-pods-live]");
  if (!panel || !window.EventSource) return;
  const note = document.querySelector("[data-pods-note]");
  const source = new EventSource(panel.dataset.podsLive);
  source.addEventListener("open", () => { if (note) note.textContent = "Following live."; });
  source.addEventListener("error", () => { if (note) note.textContent = "Live updates interrupted; retrying."; });
  source.addEventListener("pods", (message) => {
    panel.innerHTML = message.data;
  });
});

// Instance page: the figures panel follows Prometheus (server-sent events
// carrying the panel's server-rendered HTML, read every 15 s). Without JS it
// is as loaded.
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector("[data-figures-live]");
  if (!panel || !window.EventSource) return;
  const say = (text) => {
    const note = panel.querySelector("[data-figures-note]");
    if (note) note.textContent = text;
  };
  const source = new EventSource(panel.dataset.figuresLive);
  source.addEventListener("open", () => say(", and again every 15 s while it is open"));
  source.addEventListener("error", () => say("; live updates interrupted, retrying"));
  source.addEventListener("figures", (message) => {
    panel.innerHTML = message.data;
    say(", and again every 15 s while it is open");
  });
});

// Install form: the reference pickers follow the namespace typed. They offer
// only instances that can serve it, as the server would check; without JS the
// server's error names the right choices. So does the suggested name.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-install-form][data-app]");
  const namespace = form && form.querySelector("#f-namespace");
  if (!namespace || namespace.readOnly) return;
  let asked = 0;
  const follow = async () => {
    const ask = ++asked;
    const url = `/api/v1/apps/${encodeURIComponent(form.dataset.app)}/install?namespace=${encodeURIComponent(namespace.value.trim())}`;
    let view;
    try {
      const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!answer.ok) return;
      view = await answer.json();
    } catch (_) {
      return;
    }
    if (ask !== asked) return; // a later namespace was typed meanwhile
    // The suggested name follows the namespace until the user types their own.
    const name = form.querySelector("#f-name[data-suggested]");
    if (name && view.name && name.value === name.dataset.suggested) {
      name.value = view.name;
      name.dataset.suggested = view.name;
    }
    for (const field of view.fields || []) {
      if (!field.param || !field.param.kind || field.param.kind.type !== "reference") continue;
      const select = form.querySelector(`select[name="${field.param.key}"]`);
      if (!select) continue;
      const chosen = select.value;
      const placeholder = select.querySelector("option[value='']");
      select.replaceChildren(...(placeholder ? [placeholder] : []));
      for (const [value, where] of field.options) {
        const option = new Option(`${value} (${where})`, value, false, value === chosen);
        select.append(option);
      }
      const container = select.closest("[data-field]");
      const hint = container && container.querySelector("[data-empty-choice]");
      if (hint) hint.hidden = field.options.length > 0;
    }
    form.dataset.namespaceFollowed = view.namespace; // the form now fits this namespace
  };
  namespace.addEventListener("change", follow);
  namespace.addEventListener("input", () => {
    clearTimeout(namespace.followTimer);
    namespace.followTimer = setTimeout(follow, 300);
  });
});

// Logs page: follow the container's log live (server-sent events). The
// stream starts with the page's last lines, so the text is replaced when it
// (re)connects; it ends with `end` when the container stops. Without JS the
// page shows the last lines and a Refresh link.
document.addEventListener("DOMContentLoaded", () => {
  const log = document.querySelector("[data-follow]");
  if (!log || !window.EventSource) return;
  const state = document.querySelector("[data-follow-state]");
  const say = (text) => { if (state) { state.hidden = false; state.textContent = text; } };
  const source = new EventSource(log.dataset.follow);
  let fresh = true;
  source.addEventListener("open", () => { fresh = true; say("Following live"); });
  source.addEventListener("line", (message) => {
    if (fresh) { log.textContent = ""; fresh = false; }
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(message.data + "\n");
    if (atBottom) log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("end", () => { source.close(); say("The container stopped: no more lines"); });
  source.addEventListener("broken", (message) => { say(`Following stopped: ${message.data}`); });
  source.addEventListener("error", () => say("Reconnecting…"));
});

// Install and update forms: a field with words of its own (Flink's memory
// fields) shows, as it is typed, the refusal or breakdown the server gives
// after a submit: the server answers them, so the numbers are its own.
// Without JS they show after the submit.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-install-form][data-app]");
  if (!form) return;
  const show = (field, key, kind, text) => {
    const id = `${kind === "error" ? "e" : "n"}-${key}`;
    let span = field.querySelector(`#${CSS.escape(id)}`);
    if (!text) {
      if (span) span.remove();
      return;
    }
    if (!span) {
      span = document.createElement("span");
      span.id = id;
      if (kind === "error") {
        span.className = "field-error";
        span.setAttribute("role", "alert");
      } else {
        span.className = "hint field-note";
      }
      field.append(span);
    }
    if (span.textContent !== text) span.textContent = text;
  };
  for (const field of form.querySelectorAll("[data-live-feedback]")) {
    const key = field.dataset.field;
    const input = field.querySelector(`[name="${CSS.escape(key)}"]`);
    if (!input) continue;
    let asked = 0;
    const check = async () => {
      const ask = ++asked;
      const url = `/api/v1/apps/${encodeURIComponent(form.dataset.app)}/fields/${encodeURIComponent(key)}?value=${encodeURIComponent(input.value.trim())}`;
      let answer;
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) return;
        answer = await response.json();
      } catch (_) {
        return;
      }
      if (ask !== asked) return; // typed on meanwhile
      show(field, key, "note", answer.note);
      show(field, key, "error", answer.error);
      field.classList.toggle("invalid", Boolean(answer.error));
    };
    input.addEventListener("input", () => {
      clearTimeout(input.feedbackTimer);
      input.feedbackTimer = setTimeout(check, 250);
    });
    input.addEventListener("change", check);
  }
});

// Install form: a version's note (e.g. no longer maintained) shows only while
// that version is chosen. Without JS the server shows the note of the version
// in the address or the submitted form.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-install-form]");
  const version = form && form.querySelector("#f-version");
  if (!version) return;
  const notes = Array.from(form.querySelectorAll("[data-version-note]"));
  const refresh = () => {
    for (const note of notes) note.hidden = note.dataset.versionNote !== version.value;
  };
  version.addEventListener("change", refresh);
  refresh();
});

// A session job's page and an application's: its savepoints and checkpoints follow the cluster live
// (server-sent events carrying the list's server-rendered HTML).
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector("[data-savepoints-live]");
  if (!panel || !window.EventSource) return;
  const note = document.querySelector("[data-savepoints-note]");
  const source = new EventSource(panel.dataset.savepointsLive);
  source.addEventListener("open", () => { if (note) note.textContent = "Following live."; });
  source.addEventListener("error", () => { if (note) note.textContent = "Live updates interrupted; retrying."; });
  source.addEventListener("savepoints", (message) => {
    panel.innerHTML = message.data;
  });
});
