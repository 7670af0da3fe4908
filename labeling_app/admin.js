// The admin's disagreement browser and adjudication form: a Streamlit components.v2 component
// (see labeling_app/admin_page.py).
//
// Why in the browser: an admin resolves disagreements one after another. Moving through the list, opening an item,
// picking the gold level and typing the note happen on the page itself; only queries (filters, order, page),
// requests for an item's detail and the gold labels travel to the server. The server sends the details of the rows
// around the selected one ahead of time, so moving down the list shows the next item at once, and the gold labels
// go through an outbox the server acknowledges one by one (kept in localStorage, so a reload loses none; each
// request id is stored once).
//
// What it decides is only presentation: the rows, their order, the labels, the judges' verdicts and what a level
// is called all come from the server (judgekit.labeling). Item HTML (already rendered to safe HTML by
// judgekit.labeling.render_markdown) is the only thing set with innerHTML; everything else is set as text.
//
// uid, store, load, el and paneEl come from prelude.js (loaded in front of this file). The session cookie is kept
// set by the admin page's own small component (admin_page.py), whichever section is open.

const RESEND_MS = 3000;
const BUSY_RETRY_MS = 2000;
const LAG_MS = 250;
const AHEAD = 2;
const KEEP_DETAILS = 120;
let BLOCK = 200; // rows asked of the server at once (the server says how many): pages within a block are turned here

function fmtConf(c) {
  return c === null || c === undefined ? "" : ` (${Number(c).toFixed(2)})`;
}

// -- state that outlives one call (the component function runs again on every server round) ------------------

function adminState(scope) {
  const all = (window.__judgekitAdmin = window.__judgekitAdmin || {});
  if (!all[scope]) {
    all[scope] = {
      scope,
      key: `jk-admin:${scope}:`,
      outbox: load(`jk-admin:${scope}:outbox`, []),
      query: load(`jk-admin:${scope}:query`, null),
      answered: null, // the query the rows answer
      page: { total: 0, offset: 0, rows: [] },
      details: new Map(),
      want: [],
      missing: new Set(),
      selected: null,
      drafts: load(`jk-admin:${scope}:drafts`, {}),
      gold: {}, // gold labels saved from this page since the rows were sent
      levels: [],
      runs: [],
      sorts: [],
      message: null,
      round: -1,
      nonce: 0,
      timer: null,
      dom: null,
      setState: null,
    };
  }
  return all[scope];
}

function saveOutbox(g) {
  store(`${g.key}outbox`, g.outbox.length ? g.outbox : null);
}

function saveDrafts(g) {
  const keep = Object.fromEntries(Object.entries(g.drafts).filter(([, d]) => d && (d.label || d.note)));
  g.drafts = keep;
  store(`${g.key}drafts`, Object.keys(keep).length ? keep : null);
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function send(g) {
  if (!g.setState) return;
  g.nonce += 1;
  g.setState("adj", { query: blockOf(g.query), want: g.want, outbox: g.outbox, nonce: g.nonce });
  clearTimeout(g.timer);
  if (g.outbox.length) g.timer = setTimeout(() => send(g), RESEND_MS);
}

function receive(g, data) {
  clearTimeout(g.timer);
  g.levels = data.levels;
  g.runs = data.runs;
  g.sorts = data.sorts;
  g.kinds = data.kinds;
  g.statuses = data.statuses;
  g.note = data.note;
  g.pageSize = data.page_size || 50;
  BLOCK = data.block || BLOCK;
  if (g.query === null) g.query = { ...data.query, limit: g.pageSize };
  g.answered = data.query;
  g.page = data.page;
  for (const [id, d] of Object.entries(data.details || {})) {
    g.details.delete(id);
    g.details.set(id, d);
  }
  while (g.details.size > KEEP_DETAILS) g.details.delete(g.details.keys().next().value);
  g.want = g.want.filter((id) => !g.details.has(id));
  let busy = false;
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
    if (o.status === "saved") {
      delete g.drafts[action.item_id];
      g.gold[action.item_id] = action.label;
      g.details.delete(action.item_id); // its adjudications changed: read again when shown
      g.message = { kind: "success", text: o.message };
    } else {
      g.message = { kind: "error", text: o.message };
    }
  }
  saveOutbox(g);
  saveDrafts(g);
  // The server answered an older state than the latest one sent (Streamlit may fold a state change that arrives
  // while a run is under way into that run): send the latest again soon, unless a newer answer comes first.
  const behind = (data.seen || 0) < g.nonce;
  if (g.outbox.length) g.timer = setTimeout(() => send(g), busy ? BUSY_RETRY_MS : behind ? LAG_MS : RESEND_MS);
  else if (behind) g.timer = setTimeout(() => send(g), LAG_MS);
  else {
    for (const id of g.want) g.missing.add(id); // answered without it: not asked for again
    g.want = [];
  }
}

// -- selection --------------------------------------------------------------------------------------------------

// The browser shows pages of ``pageSize`` rows (g.query.offset is the first one shown) and asks the server for the
// block of BLOCK rows holding that page (blockOf): turning to another page of the block needs no server round.
function blockOf(q) {
  if (!q) return q;
  const offset = Math.floor((q.offset || 0) / BLOCK) * BLOCK;
  return { ...q, offset, limit: BLOCK };
}

function answeredNow(g) {
  return same(blockOf(g.query), g.answered);
}

function rows(g) {
  // the shown page's rows (only once the block holding it has arrived)
  const all = g.page.rows || [];
  if (!g.query || !g.answered || !answeredNow(g)) return all.slice(0, g.pageSize || 50);
  const at = (g.query.offset || 0) - g.page.offset;
  return all.slice(at, at + (g.query.limit || g.pageSize));
}

function indexOf(g, id) {
  return rows(g).findIndex((r) => r.item_id === id);
}

function prefetch(g) {
  // the selected row's detail and the next AHEAD rows', when not held yet
  const list = rows(g);
  const at = Math.max(0, indexOf(g, g.selected));
  const wanted = [];
  for (let i = at; i < Math.min(list.length, at + 1 + AHEAD); i++) {
    const id = list[i].item_id;
    if (!g.details.has(id) && !g.missing.has(id)) wanted.push(id);
  }
  const fresh = wanted.filter((id) => !g.want.includes(id));
  if (!fresh.length) return false;
  g.want = [...new Set([...wanted, ...g.want])].slice(0, 1 + AHEAD);
  return true;
}

function select(g, id, focusForm) {
  g.selected = id;
  if (prefetch(g)) send(g);
  render(g);
  const r = g.dom.list.querySelector(`[data-item="${CSS.escape(id || "")}"]`);
  if (r) r.scrollIntoView({ block: "nearest" });
  if (focusForm) g.dom.detail.focus({ preventScroll: true });
}

function move(g, step) {
  const list = rows(g);
  if (!list.length) return;
  const at = indexOf(g, g.selected);
  const next = at < 0 ? 0 : Math.min(list.length - 1, Math.max(0, at + step));
  select(g, list[next].item_id, false);
}

function pending(g) {
  return new Set(g.outbox.map((a) => a.item_id));
}

function nextOpen(g, after) {
  const list = rows(g);
  const busy = pending(g);
  const at = indexOf(g, after);
  for (let i = at + 1; i < list.length; i++) {
    const r = list[i];
    if (!busy.has(r.item_id) && !g.gold[r.item_id] && !r.gold) return r.item_id;
  }
  return null;
}

// -- actions ----------------------------------------------------------------------------------------------------

function setQuery(g, change) {
  g.query = { ...g.query, ...change, limit: g.pageSize };
  if (!("offset" in change)) g.query.offset = 0;
  store(`${g.key}query`, g.query);
  g.message = null;
  if (answeredNow(g)) {
    // another page of the block held: shown at once (the details of its first rows are asked for, if missing)
    g.selected = rows(g).length ? rows(g)[0].item_id : null;
    const ask = prefetch(g);
    render(g);
    if (ask) send(g);
    return;
  }
  render(g);
  send(g);
}

function draft(g) {
  if (!g.selected) return { label: null, note: "" };
  if (!g.drafts[g.selected]) g.drafts[g.selected] = { label: null, note: "" };
  return g.drafts[g.selected];
}

function pick(g, value) {
  if (!g.selected) return;
  draft(g).label = value;
  saveDrafts(g);
  renderForm(g);
}

function say(g, kind, text) {
  g.message = { kind, text };
  renderStatus(g);
}

function save(g) {
  const id = g.selected;
  if (!id) return;
  const d = draft(g);
  const n = Math.min(9, g.levels.length);
  if (!d.label) {
    say(g, "error", `Pick the gold level first (keys 1-${n}).`);
    return;
  }
  if (!d.note.trim()) {
    say(g, "error", "A note is required with a gold label: say briefly why it is the right one.");
    g.dom.note.focus();
    return;
  }
  g.outbox.push({ rid: uid(), kind: "adjudicate", item_id: id, label: d.label, note: d.note });
  saveOutbox(g);
  say(g, "info", `Saving the gold label for item ${id}…`);
  const next = nextOpen(g, id);
  if (next) g.selected = next;
  prefetch(g);
  render(g);
  send(g);
}

// -- keys -------------------------------------------------------------------------------------------------------

// Keys act on the browser when focus is on the page, the list or the detail (not on another control): j/k or the
// arrow keys move through the list, 1-9 pick the gold level, Ctrl+Enter (also in the note) saves, Esc leaves the
// note. In the note box, Enter starts a new line.
function onKey(g, e) {
  if (e.defaultPrevented || e.isComposing || !g.dom || !g.dom.root.isConnected) return;
  if (g.dom.root.offsetParent === null) return; // on another tab of the page
  const k = e.key;
  const t = e.target;
  const inNote = t === g.dom.note;
  if (k === "Escape" && inNote) {
    g.dom.detail.focus({ preventScroll: true });
    e.preventDefault();
    return;
  }
  if (k === "Enter" && (e.ctrlKey || e.metaKey) && (inNote || g.dom.root.contains(t) || t === document.body)) {
    e.preventDefault();
    save(g);
    return;
  }
  if (inNote || e.altKey || e.ctrlKey || e.metaKey) return;
  const onPage = !t || t === document.body || t === document.documentElement;
  const inside = g.dom.root.contains(t) && !t.matches("input, textarea, select");
  if (!onPage && !inside) return;
  if (k === "ArrowDown" || k === "j") {
    e.preventDefault();
    move(g, 1);
  } else if (k === "ArrowUp" || k === "k") {
    e.preventDefault();
    move(g, -1);
  } else if (/^[1-9]$/.test(k)) {
    const lv = g.levels.find((l) => l.key === k);
    if (lv && g.selected) {
      e.preventDefault();
      pick(g, lv.value);
    }
  } else if (k === "n") {
    e.preventDefault();
    g.dom.note.focus();
  }
}

// -- drawing ----------------------------------------------------------------------------------------------------

function selectBox(label, testid, onChange) {
  const wrap = el("label", "jk-adj-filter");
  wrap.append(el("span", "", label));
  const s = el("select");
  s.dataset.testid = testid;
  s.setAttribute("aria-label", label);
  s.addEventListener("change", () => onChange(s.value));
  wrap.append(s);
  return { wrap, s };
}

function fill(sel, options, value) {
  const sig = JSON.stringify(options);
  if (sel.dataset.sig !== sig) {
    sel.replaceChildren(...options.map(([v, name]) => Object.assign(el("option", "", name), { value: v })));
    sel.dataset.sig = sig;
  }
  sel.value = value;
}

function build(parent, g) {
  let root = parent.querySelector(":scope > .jk-adj");
  if (root && g.dom && g.dom.root === root) return;
  if (root) root.remove();
  root = el("div", "jk-adj");
  root.dataset.testid = "jk-adj";
  const bar = el("div", "jk-adj-bar");
  const kind = selectBox("Show", "jk-adj-kind", (v) => setQuery(g, { kind: v }));
  const run = selectBox("Judge", "jk-adj-run", (v) => setQuery(g, { run: v || null }));
  const status = selectBox("Status", "jk-adj-status-filter", (v) => setQuery(g, { status: v }));
  const sort = selectBox("Order", "jk-adj-sort", (v) => setQuery(g, { sort: v }));
  const count = el("span", "jk-adj-count");
  bar.append(kind.wrap, run.wrap, status.wrap, sort.wrap, count);
  const statusLine = el("div", "jk-status");
  statusLine.setAttribute("role", "status");
  statusLine.setAttribute("aria-live", "polite");
  const main = el("div", "jk-adj-main");
  const listBox = el("div", "jk-adj-listbox");
  const list = el("div", "jk-adj-list");
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Disagreements");
  const nav = el("div", "jk-list-nav");
  const prev = el("button", "jk-adj-prev", "Previous page");
  prev.type = "button";
  prev.addEventListener("click", () => setQuery(g, { offset: Math.max(0, g.query.offset - g.pageSize) }));
  const next = el("button", "jk-adj-next", "Next page");
  next.type = "button";
  next.addEventListener("click", () => setQuery(g, { offset: g.query.offset + g.pageSize }));
  nav.append(prev, next);
  listBox.append(list, nav);
  const detail = el("div", "jk-adj-detail");
  detail.tabIndex = -1;
  detail.setAttribute("aria-label", "Item detail");
  const body = el("div", "jk-adj-body");
  const form = el("div", "jk-adj-form");
  const title = el("div", "jk-title", "Gold label");
  const levelsBox = el("div", "jk-adj-levels");
  const note = el("textarea", "jk-critique jk-adj-note");
  note.rows = 2;
  note.placeholder = "Note (required): why this is the gold label. Ctrl+Enter saves";
  note.setAttribute("aria-label", "Adjudication note");
  note.addEventListener("input", () => {
    draft(g).note = note.value;
    saveDrafts(g);
  });
  const saveBtn = el("button", "jk-submit jk-adj-save");
  saveBtn.type = "button";
  saveBtn.append(el("span", "", "Save gold label"), el("kbd", "", "Ctrl+Enter"));
  saveBtn.addEventListener("click", () => save(g));
  const row = el("div", "jk-row");
  row.append(note, saveBtn);
  form.append(title, levelsBox, row);
  detail.append(body, form);
  main.append(listBox, detail);
  const keys = el("div", "jk-keys");
  root.append(bar, statusLine, main, keys);
  parent.appendChild(root);
  g.dom = { root, kind, run, status, sort, count, statusLine, list, prev, next, detail, body, form, levelsBox, note, saveBtn, keys };
  g.levelsDrawn = null;
}

function chip(text, cls) {
  return el("span", `jk-chip ${cls || ""}`, text);
}

function renderBar(g) {
  const d = g.dom;
  const q = g.query || {};
  fill(d.kind.s, g.kinds, q.kind);
  fill(d.run.s, [["", "every judge"], ...g.runs.map((r) => [r, r])], q.run || "");
  fill(d.status.s, g.statuses, q.status);
  fill(d.sort.s, g.sorts, q.sort);
  const loading = !answeredNow(g);
  d.root.classList.toggle("jk-loading", loading);
  d.root.dataset.answered = loading ? "" : JSON.stringify(g.query); // the page shown answers this query
  const p = g.page;
  const n = rows(g).length;
  const from = q.offset || 0;
  const shown = n ? `${from + 1}-${from + n} of ${p.total.toLocaleString()}` : "none";
  d.count.textContent = loading ? "Loading…" : `${shown} items`;
  d.prev.disabled = loading || from === 0;
  d.next.disabled = loading || from + n >= p.total;
}

function levelName(g, value) {
  const lv = g.levels.find((l) => l.value === value);
  return lv ? lv.name : value;
}

function renderList(g) {
  const d = g.dom;
  const busy = pending(g);
  d.list.replaceChildren();
  if (!rows(g).length) {
    d.list.appendChild(el("p", "jk-muted", g.note || "No disagreements match."));
    return;
  }
  for (const r of rows(g)) {
    const b = el("button", "jk-adj-row");
    b.type = "button";
    b.dataset.item = r.item_id;
    b.setAttribute("role", "option");
    b.setAttribute("aria-selected", String(r.item_id === g.selected));
    const head = el("div", "jk-adj-row-head");
    head.append(el("span", "jk-adj-rank", `${r.rank}.`), el("span", "jk-list-id", r.item_id));
    const gold = g.gold[r.item_id] || r.gold;
    if (busy.has(r.item_id)) head.append(chip("saving…", "jk-chip-pending"));
    else if (gold) head.append(chip(`gold: ${levelName(g, gold)}`, "jk-chip-gold"));
    const people = el("div", "jk-adj-people");
    const tie = r.majority === null;
    people.append(el("span", "jk-muted", tie ? "people tie: " : "people: "));
    for (const c of r.people) {
      people.append(chip(`${levelName(g, c.level)} ×${c.n}`, c.level === r.majority ? "jk-chip-major" : ""));
    }
    const judges = el("div", "jk-adj-judges");
    for (const j of r.judges) {
      const text = j.label !== null ? `${j.run}: ${levelName(g, j.label)}${fmtConf(j.confidence)}` : `${j.run}: ${j.status}`;
      judges.append(chip(text, j.against ? "jk-chip-against" : "jk-chip-judge"));
    }
    b.append(head, el("div", "jk-list-snippet", r.snippet), people, judges);
    b.addEventListener("click", () => select(g, r.item_id, true));
    d.list.appendChild(b);
  }
}

function renderDetail(g) {
  const d = g.dom;
  const id = g.selected;
  const det = id ? g.details.get(id) : null;
  d.body.replaceChildren();
  d.detail.dataset.item = det ? det.item_id : "";
  if (!id) {
    d.body.appendChild(el("p", "jk-muted", "Pick an item on the left (or press j) to see it and resolve it."));
    return;
  }
  if (!det) {
    d.body.appendChild(el("p", "jk-muted", `Loading item ${id}…`));
    return;
  }
  const heading = el("h3", "jk-heading", `Item ${det.item_id}`);
  heading.dataset.jkAdjHeading = "1";
  d.body.appendChild(heading);
  const frame = el("div", "jk-adj-frame");
  det.frame.forEach((p) => frame.appendChild(paneEl(p)));
  const sides = el("div", `jk-sides ${det.sides.length > 1 ? "jk-pair" : ""}`);
  det.sides.forEach((p) => sides.appendChild(paneEl(p)));
  d.body.append(frame, sides);
  const who = el("div", "jk-adj-who");
  const people = el("ul", "jk-adj-labels");
  people.appendChild(el("li", "jk-adj-subhead", "People (blind labels)"));
  for (const p of det.people) {
    const li = el("li");
    li.append(el("strong", "", `${p.annotator}: ${levelName(g, p.label)}`));
    if (p.revision > 1) li.append(el("span", "jk-muted", ` (revision ${p.revision})`));
    if (p.flagged) li.append(chip("flagged", "jk-chip-against"));
    if (p.critique) li.append(el("span", "jk-adj-text", ` — ${p.critique}`));
    people.appendChild(li);
  }
  for (const p of det.others) {
    const li = el("li", "jk-muted");
    li.append(el("span", "", `${p.annotator} (${p.provenance}): ${levelName(g, p.label)}`));
    if (p.critique) li.append(el("span", "jk-adj-text", ` — ${p.critique}`));
    people.appendChild(li);
  }
  const judges = el("ul", "jk-adj-labels");
  judges.appendChild(el("li", "jk-adj-subhead", "Judges"));
  for (const j of det.judges) {
    const li = el("li");
    const said = j.label !== null ? `${levelName(g, j.label)}${fmtConf(j.confidence)}` : j.status;
    li.append(el("strong", "", `${j.run}: ${said}`));
    if (j.rationale) li.append(el("span", "jk-adj-text", ` — ${j.rationale}`));
    judges.appendChild(li);
  }
  const adj = el("ul", "jk-adj-labels");
  adj.appendChild(el("li", "jk-adj-subhead", det.gold ? `Gold label: ${levelName(g, det.gold)}` : "Not adjudicated yet"));
  for (const a of det.adjudications) {
    const li = el("li");
    li.append(el("strong", "", `${a.admin}: ${levelName(g, a.label)}`), el("span", "jk-adj-text", ` — ${a.note}`));
    li.append(el("span", "jk-muted", ` (${a.at.slice(0, 16).replace("T", " ")} UTC)`));
    adj.appendChild(li);
  }
  who.append(people, judges, adj);
  d.body.appendChild(who);
}

function renderForm(g) {
  const d = g.dom;
  const sig = JSON.stringify(g.levels);
  if (g.levelsDrawn !== sig) {
    g.levelsDrawn = sig;
    d.levelsBox.replaceChildren();
    for (const lv of g.levels) {
      const b = el("button", "jk-level");
      b.type = "button";
      b.dataset.value = lv.value;
      if (lv.key) b.append(el("kbd", "", lv.key));
      b.append(el("span", "jk-level-name", lv.name));
      b.title = lv.definition;
      b.addEventListener("click", () => pick(g, lv.value));
      d.levelsBox.appendChild(b);
    }
    const n = Math.min(9, g.levels.length);
    d.keys.textContent =
      `Keys: j/k or ↓/↑ move through the list · 1-${n} pick the gold level · n types the note · ` +
      "Ctrl+Enter saves (and moves to the next open item) · Esc leaves the note";
  }
  const cur = draft(g);
  for (const b of d.levelsBox.querySelectorAll(".jk-level")) {
    b.setAttribute("aria-pressed", String(b.dataset.value === cur.label));
    b.disabled = !g.selected;
  }
  if (document.activeElement !== d.note && d.note.value !== cur.note) d.note.value = cur.note;
  if (document.activeElement === d.note && d.note.dataset.item !== (g.selected || "")) d.note.value = cur.note;
  d.note.dataset.item = g.selected || "";
  d.note.disabled = !g.selected;
  d.saveBtn.disabled = !g.selected;
}

function renderStatus(g) {
  const d = g.dom;
  const m = g.message;
  const waiting = g.outbox.length ? ` (${g.outbox.length} being saved)` : "";
  d.statusLine.textContent = m ? m.text + waiting : waiting.trim();
  d.statusLine.className = `jk-status ${m ? `jk-${m.kind}` : ""}`;
}

function render(g) {
  renderBar(g);
  renderList(g);
  renderDetail(g);
  renderForm(g);
  renderStatus(g);
  g.dom.root.dataset.round = String(g.round);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data) return undefined;
  const g = adminState(data.scope);
  g.setState = setStateValue;
  build(parentElement, g);
  const first = g.round < 0;
  receive(g, data);
  g.round = data.round;
  if (g.selected && indexOf(g, g.selected) < 0 && !g.details.has(g.selected)) g.selected = null;
  if (!g.selected && rows(g).length && answeredNow(g)) g.selected = rows(g)[0].item_id;
  if (prefetch(g) && !first) send(g);
  render(g);
  if (first && (g.outbox.length || !answeredNow(g) || g.want.length)) send(g); // after a reload
  const keyHandler = (e) => onKey(g, e);
  document.addEventListener("keydown", keyHandler, true);
  return () => document.removeEventListener("keydown", keyHandler, true);
}
