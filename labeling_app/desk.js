// The annotator's desk: a Streamlit components.v2 component (see labeling_app/label_page.py).
//
// Why in the browser: every key press used to be a Streamlit rerun, and a key pressed while one was running was
// lost. Here keys, level choices, the flag and the critique are handled on the page itself; only actions travel,
// in an outbox the server acknowledges one by one (judgekit.labeling.apply_actions). The server sends the current
// item and the next one, so Enter shows the next item at once while the label is being stored.
//
// What it decides is only presentation: which items exist, what they say (already rendered to safe HTML by
// judgekit.labeling.render_markdown), which levels need a critique, what a stored label is called, all come from
// the server. Item HTML is the only thing set with innerHTML; everything else is set as text.
//
// Kept in localStorage per project, annotator and rubric ("scope"): the outbox (so a reload or a closed tab loses
// no label: it is sent again, and the server stores each request id once) and a draft per item (choice, critique,
// flag), so a reload or a server restart keeps what was typed.
//
// uid, store, load, el, setCookie, dropCookie and paneEl come from prelude.js (loaded in front of this file).

const RESEND_MS = 3000;
const BUSY_RETRY_MS = 2000;
const LAG_MS = 250;

function forgetScope(prefix) {
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const k = localStorage.key(i);
      if (k && k.startsWith(prefix) && !k.endsWith(":outbox")) localStorage.removeItem(k);
    }
  } catch (e) {
    /* nothing to forget */
  }
}

// -- state that outlives one call (the component function runs again on every server round) -----------------

function deskState(scope) {
  const all = (window.__judgekitDesk = window.__judgekitDesk || {});
  if (!all[scope]) {
    all[scope] = {
      scope,
      key: `jk:${scope}:`,
      outbox: load(`jk:${scope}:outbox`, []),
      items: [],
      levels: [],
      criteria: [], // a rubric with rated criteria: one control each (levels is then empty)
      current: null, // the DeskItem shown
      revise: null, // a DeskItem reopened from "My labels"
      returnTo: null, // the queue item to go back to after a revision
      shownAt: performance.now(),
      draft: { choice: null, critique: "", flagged: false, answers: {} },
      message: null,
      round: -1,
      nonce: 0,
      openReq: null,
      labelsReq: null,
      labelsView: false,
      labels: null,
      timer: null,
      dom: null,
      setState: null,
    };
  }
  return all[scope];
}

function draftKey(g, item) {
  return `${g.key}draft:${item.revise ? "rev:" : ""}${item.item_id}`;
}

function saveDraft(g) {
  if (!g.current) return;
  const d = g.draft;
  const any = d.choice || d.critique || d.flagged || Object.keys(d.answers || {}).length;
  store(draftKey(g, g.current), any ? d : null);
}

function saveOutbox(g) {
  store(`${g.key}outbox`, g.outbox.length ? g.outbox : null);
}

function pendingIds(g) {
  return new Set(g.outbox.map((a) => a.item_id));
}

// -- talking to the server ------------------------------------------------------------------------------------

function send(g) {
  if (!g.setState) return;
  g.nonce += 1;
  g.setState("desk", {
    outbox: g.outbox,
    open: g.openReq,
    labels: g.labelsReq,
    nonce: g.nonce,
  });
  clearTimeout(g.timer);
  if (g.outbox.length) g.timer = setTimeout(() => send(g), RESEND_MS);
}

function receive(g, data) {
  clearTimeout(g.timer);
  g.levels = data.view.levels;
  g.criteria = data.view.criteria || [];
  g.items = data.view.items;
  g.emptyMessage = data.view.empty_message;
  g.title = data.view.title;
  g.progress = data.progress;
  let busy = false;
  let jumpTo = null;
  for (const o of data.outcomes || []) {
    const i = g.outbox.findIndex((a) => a.rid === o.rid);
    if (i < 0) continue;
    const action = g.outbox[i];
    if (o.status === "busy") {
      busy = true;
      g.message = { kind: "warning", text: o.message };
      continue;
    }
    g.outbox.splice(i, 1);
    if (o.status === "saved" || o.status === "skipped") {
      store(`${g.key}draft:${action.revise ? "rev:" : ""}${action.item_id}`, null);
      g.message = { kind: "success", text: o.message };
    } else {
      g.message = { kind: "error", text: o.message };
      if (o.status === "rejected") jumpTo = action.item_id;
    }
  }
  saveOutbox(g);
  if (data.revise && g.openReq === data.revise.item_id) {
    if (!g.revise && g.current && !g.current.revise) g.returnTo = g.current.item_id;
    g.revise = data.revise;
    g.openReq = null;
    g.labelsView = false;
    g.message = {
      kind: "warning",
      text: `Revising your label on item ${data.revise.item_id} (revision ${data.revise.revise.revision}; earlier revisions are kept).`,
    };
  }
  if (data.labels) g.labels = data.labels;
  if (jumpTo) {
    const back = g.items.find((it) => it.item_id === jumpTo);
    if (back) show(g, back);
  }
  // The server answered an older state than the latest one sent (Streamlit may fold a state change that arrives
  // while a run is under way into that run): send the latest again soon, unless a newer answer comes first.
  const behind = (data.seen || 0) < g.nonce;
  if (g.outbox.length) g.timer = setTimeout(() => send(g), busy ? BUSY_RETRY_MS : behind ? LAG_MS : RESEND_MS);
  else if (behind) g.timer = setTimeout(() => send(g), LAG_MS);
}

// -- which item is shown ----------------------------------------------------------------------------------------

function candidates(g) {
  const pending = pendingIds(g);
  return g.items.filter((it) => !pending.has(it.item_id));
}

function choose(g) {
  if (g.revise) return g.revise;
  const c = candidates(g);
  const keep = g.current && !g.current.revise && c.find((it) => it.item_id === g.current.item_id);
  if (keep) return keep;
  if (g.returnTo) {
    const back = c.find((it) => it.item_id === g.returnTo);
    g.returnTo = null;
    if (back) return back;
  }
  return c[0] || null;
}

function show(g, item) {
  const changed = !g.current || !item || g.current.item_id !== item.item_id || !!g.current.revise !== !!item.revise;
  g.current = item;
  if (!changed) return false;
  g.shownAt = performance.now();
  if (item) {
    const saved = load(draftKey(g, item), null);
    const prior = item.revise;
    g.draft = saved || {
      choice: prior ? prior.choice : null,
      critique: prior ? prior.critique : "",
      flagged: prior ? prior.flagged : false,
      answers: prior && prior.answers ? { ...prior.answers } : {},
    };
    if (!g.draft.answers) g.draft.answers = {};
  } else {
    g.draft = { choice: null, critique: "", flagged: false, answers: {} };
  }
  return true;
}

// -- actions ------------------------------------------------------------------------------------------------------

function say(g, kind, text) {
  g.message = { kind, text };
  renderStatus(g);
}

function levelOf(g, value) {
  return g.levels.find((l) => l.value === value);
}

function pick(g, value) {
  if (!g.current) return;
  g.draft.choice = value;
  saveDraft(g);
  renderForm(g);
  const lv = levelOf(g, value);
  if (lv && lv.critique && !g.draft.critique.trim()) say(g, "info", `'${lv.name}' needs a short critique: say why.`);
}

function answer(g, name, value) {
  if (!g.current) return;
  if (value === "" || value === null) delete g.draft.answers[name];
  else g.draft.answers[name] = String(value);
  saveDraft(g);
  renderForm(g);
}

function enqueue(g, action) {
  g.outbox.push(action);
  saveOutbox(g);
  if (g.revise && g.current === g.revise) g.revise = null;
  render(g, true);
  send(g);
}

function submit(g) {
  const cur = g.current;
  if (!cur) return;
  const d = g.draft;
  if (g.criteria.length) {
    const missing = g.criteria.filter((c) => !d.answers[c.name]).map((c) => c.name);
    if (missing.length) {
      say(g, "error", `Rate every criterion first: ${missing.join(", ")}.`);
      return;
    }
  } else if (!d.choice) {
    const n = Math.min(9, g.levels.length);
    say(g, "error", `Pick a level first (keys 1-${n}).`);
    return;
  }
  const lv = levelOf(g, d.choice);
  if (lv && lv.critique && !d.critique.trim()) {
    say(g, "error", `A critique is required for '${lv.name}': say briefly why.`);
    g.dom.critique.focus();
    return;
  }
  say(g, "info", `Saving label for item ${cur.item_id}…`);
  enqueue(g, {
    rid: uid(),
    kind: "submit",
    item_id: cur.item_id,
    choice: g.criteria.length ? null : d.choice,
    answers: g.criteria.length ? { ...d.answers } : {},
    critique: d.critique,
    flagged: !!d.flagged,
    seconds: Math.max(0, (performance.now() - g.shownAt) / 1000),
    revise: !!cur.revise,
  });
}

function skip(g) {
  const cur = g.current;
  if (!cur) return;
  if (cur.revise) {
    store(draftKey(g, cur), null);
    g.revise = null;
    say(g, "info", "Revision cancelled.");
    render(g, true);
    return;
  }
  say(g, "info", `Skipping item ${cur.item_id}…`);
  enqueue(g, {
    rid: uid(),
    kind: "skip",
    item_id: cur.item_id,
    choice: null,
    critique: g.draft.critique,
    flagged: !!g.draft.flagged,
    seconds: Math.max(0, (performance.now() - g.shownAt) / 1000),
    revise: false,
  });
}

function toggleFlag(g) {
  if (!g.current) return;
  g.draft.flagged = !g.draft.flagged;
  saveDraft(g);
  renderForm(g);
}

function focusItem(g) {
  const a = document.activeElement;
  if (a && a !== document.body && a.blur) a.blur();
  g.dom.item.focus({ preventScroll: true });
}

function openLabels(g, offset) {
  g.labelsView = true;
  g.labelsReq = { offset: offset || 0 };
  render(g, false);
  send(g);
}

function closeLabels(g) {
  g.labelsView = false;
  g.labelsReq = null;
  render(g, false);
  focusItem(g);
}

function requestRevision(g, itemId) {
  g.openReq = itemId;
  say(g, "info", `Opening item ${itemId}…`);
  send(g);
}

// -- keys ---------------------------------------------------------------------------------------------------------

// Where a key press happens decides what it does: on the item (nothing focused, the item area, a level button,
// the flag checkbox) keys act on the item; in the critique box Enter submits and Shift+Enter starts a new line;
// on any other control (My labels, a Revise button, the sidebar, ...) keys do what that control does.
function zone(g, t) {
  if (!t || t === document.body || t === document.documentElement) return "item";
  if (t === g.dom.critique || (t.classList && t.classList.contains("jk-crit-number"))) return "text";
  if (t.classList && t.classList.contains("jk-crit-level")) return "item";
  if (t === g.dom.item || t === g.dom.flagBox || (t.classList && t.classList.contains("jk-level"))) return "item";
  if (g.dom.root.contains(t) && !t.matches("button, input, textarea, select, a, [tabindex]")) return "item";
  return "other";
}

function onKey(g, e) {
  if (e.defaultPrevented || e.isComposing || !g.dom.root.isConnected) return;
  const k = e.key;
  if (k === "Escape") {
    if (g.labelsView) closeLabels(g);
    else focusItem(g);
    e.preventDefault();
    return;
  }
  if (e.altKey || ((e.ctrlKey || e.metaKey) && k !== "Enter")) return;
  if (g.labelsView) return; // the list's own buttons handle Enter/Space
  const z = zone(g, e.target);
  if (z === "other") return;
  if (z === "text") {
    if (k === "Enter" && !e.shiftKey) {
      e.preventDefault();
      submit(g);
    }
    return;
  }
  if (k === "Enter") {
    e.preventDefault();
    submit(g);
  } else if (/^[1-9]$/.test(k)) {
    const lv = g.levels.find((l) => l.key === k);
    if (lv) {
      e.preventDefault();
      pick(g, lv.value);
    }
  } else if (k === "s" || k === "S") {
    e.preventDefault();
    skip(g);
  } else if (k === "f" || k === "F") {
    e.preventDefault();
    toggleFlag(g);
  }
}

// -- drawing ------------------------------------------------------------------------------------------------------

function build(parent, g) {
  let root = parent.querySelector(":scope > .jk-desk");
  if (root && g.dom && g.dom.root === root) return;
  if (root) root.remove();
  root = el("div", "jk-desk");
  root.dataset.testid = "jk-desk";
  const head = el("div", "jk-head");
  const status = el("div", "jk-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  const progress = el("div", "jk-progress");
  const progressText = el("span", "jk-progress-text");
  const bar = el("div", "jk-bar");
  const barFill = el("div", "jk-bar-fill");
  bar.appendChild(barFill);
  progress.append(progressText, bar);
  const labelsBtn = el("button", "jk-labels-button", "My labels");
  labelsBtn.type = "button";
  labelsBtn.title = "Your earlier labels: revise one (Esc comes back)";
  labelsBtn.addEventListener("click", () => (g.labelsView ? closeLabels(g) : openLabels(g, 0)));
  head.append(status, progress, labelsBtn);

  const body = el("div", "jk-body");
  const item = el("div", "jk-item");
  item.tabIndex = -1;
  item.setAttribute("aria-label", "Item to label");
  const heading = el("h3", "jk-heading");
  heading.dataset.jkHeading = "1";
  const frame = el("div", "jk-frame");
  const sides = el("div", "jk-sides");
  item.append(heading, frame, sides);
  const empty = el("div", "jk-empty");
  const labels = el("div", "jk-labels");
  body.append(item, empty, labels);

  const actions = el("div", "jk-actions");
  const title = el("div", "jk-title");
  const levelsBox = el("div", "jk-levels");
  const row = el("div", "jk-row");
  const flag = el("label", "jk-flag");
  const flagBox = el("input");
  flagBox.type = "checkbox";
  flagBox.addEventListener("change", () => {
    g.draft.flagged = flagBox.checked;
    saveDraft(g);
  });
  flag.append(flagBox, el("span", "", "Flag for review (unclear, broken, offensive …)"));
  const critique = el("textarea", "jk-critique");
  critique.rows = 2;
  critique.setAttribute("aria-label", "Critique");
  critique.addEventListener("input", () => {
    g.draft.critique = critique.value;
    saveDraft(g);
  });
  const submitBtn = el("button", "jk-submit");
  submitBtn.type = "button";
  submitBtn.append(el("span", "", "Submit"), el("kbd", "", "Enter"));
  submitBtn.addEventListener("click", () => submit(g));
  const skipBtn = el("button", "jk-skip");
  skipBtn.type = "button";
  skipBtn.addEventListener("click", () => skip(g));
  row.append(flag, critique, submitBtn, skipBtn);
  const keys = el("div", "jk-keys");
  actions.append(title, levelsBox, row, keys);
  root.append(head, body, actions);
  parent.appendChild(root);
  g.dom = {
    root,
    status,
    progressText,
    barFill,
    labelsBtn,
    body,
    item,
    heading,
    frame,
    sides,
    empty,
    labels,
    actions,
    title,
    levelsBox,
    flagBox,
    critique,
    submitBtn,
    skipBtn,
    keys,
  };
  g.levelsDrawn = null;
}

function renderItem(g) {
  const d = g.dom;
  const cur = g.current;
  d.frame.replaceChildren();
  d.sides.replaceChildren();
  if (!cur) return;
  d.heading.textContent = cur.heading;
  cur.frame.forEach((p) => d.frame.appendChild(paneEl(p)));
  cur.sides.forEach((p) => d.sides.appendChild(paneEl(p)));
  d.sides.classList.toggle("jk-pair", cur.sides.length > 1);
}

function renderCriteria(g) {
  // one control per rated criterion: level buttons (categorical) or a number with a slider (interval)
  const d = g.dom;
  d.levelsBox.classList.add("jk-criteria");
  for (const c of g.criteria) {
    const box = el("fieldset", "jk-criterion");
    box.dataset.criterion = c.name;
    const legend = el("legend", "jk-criterion-name", c.name);
    legend.title = c.description;
    box.append(legend, el("div", "jk-definition", c.description));
    const controls = el("div", "jk-criterion-controls");
    if (c.kind === "interval") {
      const num = el("input", "jk-crit-number");
      num.type = "number";
      num.min = String(c.min);
      num.max = String(c.max);
      num.step = c.step === null ? "any" : String(c.step);
      num.setAttribute("aria-label", `${c.name} (${c.min} to ${c.max})`);
      const range = el("input", "jk-crit-range");
      range.type = "range";
      range.min = num.min;
      range.max = num.max;
      range.step = num.step;
      range.tabIndex = -1;
      range.setAttribute("aria-hidden", "true");
      num.addEventListener("input", () => answer(g, c.name, num.value));
      range.addEventListener("input", () => answer(g, c.name, range.value));
      const anchors = c.levels.map((lv) => `${lv.value}: ${lv.name}`).join(" · ");
      controls.append(num, range, el("span", "jk-anchors", anchors));
    } else {
      for (const lv of c.levels) {
        const b = el("button", "jk-crit-level");
        b.type = "button";
        b.dataset.value = lv.value;
        b.append(el("span", "jk-level-name", lv.name));
        b.title = lv.definition;
        b.addEventListener("click", () => answer(g, c.name, lv.value));
        controls.appendChild(b);
      }
    }
    box.appendChild(controls);
    d.levelsBox.appendChild(box);
  }
  d.keys.textContent =
    "Rate every criterion (Tab moves between them) · Enter submits (Shift+Enter: new line in the critique) · " +
    "S skips · F flags · Esc returns to the item";
}

function renderLevels(g) {
  const d = g.dom;
  const sig = JSON.stringify([g.levels, g.criteria]);
  if (g.levelsDrawn === sig) return;
  g.levelsDrawn = sig;
  d.levelsBox.replaceChildren();
  d.levelsBox.classList.remove("jk-criteria");
  if (g.criteria.length) {
    renderCriteria(g);
    return;
  }
  for (const lv of g.levels) {
    const cell = el("div", "jk-level-cell");
    const b = el("button", "jk-level");
    b.type = "button";
    b.dataset.value = lv.value;
    if (lv.key) b.append(el("kbd", "", lv.key));
    b.append(el("span", "jk-level-name", lv.name));
    b.title = lv.definition;
    b.addEventListener("click", () => pick(g, lv.value));
    const def = el("div", "jk-definition", lv.definition);
    def.title = lv.definition;
    cell.append(b, def);
    d.levelsBox.appendChild(cell);
  }
  const n = Math.min(9, g.levels.length);
  d.keys.textContent =
    `Keys: 1-${n} pick a level · Enter submits (Shift+Enter: new line in the critique) · S skips · ` +
    "F flags · Esc returns to the item";
}

function renderForm(g) {
  const d = g.dom;
  const cur = g.current;
  const lv = g.draft.choice ? levelOf(g, g.draft.choice) : null;
  for (const b of d.levelsBox.querySelectorAll(".jk-level")) {
    b.setAttribute("aria-pressed", String(b.dataset.value === g.draft.choice));
    b.disabled = !cur;
  }
  for (const box of d.levelsBox.querySelectorAll(".jk-criterion")) {
    const value = (g.draft.answers || {})[box.dataset.criterion];
    for (const b of box.querySelectorAll(".jk-crit-level")) {
      b.setAttribute("aria-pressed", String(b.dataset.value === value));
      b.disabled = !cur;
    }
    for (const input of box.querySelectorAll("input")) {
      const v = value === undefined ? "" : value;
      if (input.type === "range") {
        // an unrated criterion's slider rests at the bottom, dimmed: it is not an answer
        input.classList.toggle("jk-unset", v === "");
        if (v === "") input.value = input.min;
        else if (input.value !== v) input.value = v;
      } else if (input.value !== v) input.value = v;
      input.disabled = !cur;
    }
  }
  d.flagBox.checked = !!g.draft.flagged;
  if (d.critique.value !== g.draft.critique) d.critique.value = g.draft.critique;
  d.critique.placeholder =
    lv && lv.critique ? `Required for '${lv.name}': why?` : "Critique (optional). Enter submits, Shift+Enter new line";
  d.critique.classList.toggle("jk-required", !!(lv && lv.critique));
  d.submitBtn.disabled = !cur;
  d.skipBtn.disabled = !cur;
  d.skipBtn.replaceChildren(el("span", "", cur && cur.revise ? "Cancel revision" : "Skip"), el("kbd", "", "S"));
  d.flagBox.disabled = !cur;
  d.critique.disabled = !cur;
}

function renderStatus(g) {
  const d = g.dom;
  const m = g.message;
  d.status.textContent = m ? m.text : "";
  d.status.className = `jk-status ${m ? `jk-${m.kind}` : ""}`;
  const p = g.progress;
  if (p) {
    const waiting = g.outbox.length ? ` · ${g.outbox.length} being saved` : "";
    d.progressText.textContent = p.text + waiting;
    d.barFill.style.width = `${Math.round(100 * p.fraction)}%`;
  }
}

function renderLabels(g) {
  const d = g.dom;
  d.labels.replaceChildren();
  d.labels.hidden = !g.labelsView;
  d.labelsBtn.textContent = g.labelsView ? "Back to the item (Esc)" : "My labels";
  if (!g.labelsView) return;
  const L = g.labels;
  if (!L) {
    d.labels.appendChild(el("p", "jk-muted", "Loading your labels…"));
    return;
  }
  d.labels.appendChild(el("h3", "jk-labels-title", `My labels (${L.total})`));
  if (!L.rows.length) d.labels.appendChild(el("p", "jk-muted", "You have not labelled anything yet."));
  const list = el("ol", "jk-list");
  list.start = L.offset + 1;
  for (const r of L.rows) {
    const li = el("li", "jk-list-row");
    const b = el("button", "jk-revise", "Revise");
    b.type = "button";
    b.dataset.item = r.item_id;
    b.setAttribute("aria-label", `Revise your label on item ${r.item_id}`);
    b.addEventListener("click", () => requestRevision(g, r.item_id));
    const what = el("span", "jk-list-level", r.level + (r.revision > 1 ? ` (revision ${r.revision})` : ""));
    li.append(b, el("span", "jk-list-id", r.item_id), what, el("span", "jk-list-snippet", r.snippet));
    if (r.flagged) li.append(el("span", "jk-list-flag", "flagged"));
    list.appendChild(li);
  }
  d.labels.appendChild(list);
  const nav = el("div", "jk-list-nav");
  if (L.offset > 0) {
    const newer = el("button", "", "Newer");
    newer.type = "button";
    newer.addEventListener("click", () => openLabels(g, Math.max(0, L.offset - 50)));
    nav.appendChild(newer);
  }
  if (L.offset + L.rows.length < L.total) {
    const older = el("button", "", "Older");
    older.type = "button";
    older.addEventListener("click", () => openLabels(g, L.offset + 50));
    nav.appendChild(older);
  }
  d.labels.appendChild(nav);
}

function fit(g) {
  // the desk fills the window below its top edge, so the buttons are always on screen; panes scroll inside
  const d = g.dom;
  const top = d.root.getBoundingClientRect().top;
  const h = Math.max(420, window.innerHeight - Math.max(0, top) - 16);
  d.root.style.height = `${h}px`;
}

function render(g, advance) {
  const d = g.dom;
  const changed = show(g, choose(g));
  renderLevels(g);
  d.title.textContent = g.title || "";
  if (changed) {
    renderItem(g);
    // a new item starts at its top: the panes, and the page if the desk's top is out of view
    for (const p of d.root.querySelectorAll(".jk-pane")) p.scrollTop = 0;
    d.body.scrollTop = 0;
    const r = d.root.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight) d.root.scrollIntoView({ block: "start" });
    if (advance || document.activeElement === document.body) focusItem(g);
  }
  const cur = g.current;
  d.item.hidden = !cur || g.labelsView;
  d.root.dataset.item = cur ? cur.item_id : "";
  d.root.classList.toggle("jk-revising", !!(cur && cur.revise));
  d.empty.hidden = !!cur || g.labelsView;
  if (!cur) {
    d.empty.textContent = g.outbox.length
      ? "Saving… the next item appears as soon as the server answers."
      : g.emptyMessage || "Nothing left for you to label right now. Thank you!";
  }
  d.actions.hidden = g.labelsView;
  renderForm(g);
  renderStatus(g);
  renderLabels(g);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data) return undefined;
  if (data.mode === "idle") {
    // the sign-in page: nothing to show; after a sign-out or an ended session, drop the cookie and the drafts
    // (a pending outbox is kept for the same person's next sign-in, so no submitted label is lost)
    const old = parentElement.querySelector(":scope > .jk-desk");
    if (old) old.remove();
    if (data.cookie_name) dropCookie(data.cookie_name);
    if (data.scope_prefix) forgetScope(`jk:${data.scope_prefix}`);
    return undefined;
  }
  setCookie(data.cookie);
  const g = deskState(data.scope);
  g.setState = setStateValue;
  build(parentElement, g);
  receive(g, data);
  render(g, false);
  fit(g);
  if (g.outbox.length && data.outcomes.length === 0 && g.round < 0) send(g); // after a reload: resend
  g.round = data.round;
  const keyHandler = (e) => onKey(g, e);
  const resize = () => fit(g);
  document.addEventListener("keydown", keyHandler, true);
  window.addEventListener("resize", resize);
  return () => {
    document.removeEventListener("keydown", keyHandler, true);
    window.removeEventListener("resize", resize);
  };
}
