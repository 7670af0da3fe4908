// Helpers shared by the labeling app's browser components (desk.js, admin.js, and the admin page's session
// keeper): loaded in front of each component's own script (labeling_app/browser_components.py), so there is one copy of
// each.
//
// Item HTML (already rendered to safe HTML by judgekit.labeling.render_markdown on the server) is the only thing
// any component sets with innerHTML (paneEl); everything else is set as text.

function uid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function store(key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch (e) {
    /* private mode or full: drafts are a convenience, an outbox is still in memory */
  }
}

function load(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch (e) {
    return fallback;
  }
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

// The session cookie (name, token, max_age from the server): a reload stays signed in.
function setCookie(c) {
  if (!c) return;
  const have = document.cookie.split("; ").some((p) => p === `${c.name}=${c.token}`);
  if (have) return;
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${c.name}=${c.token}; Max-Age=${c.max_age}; Path=/; SameSite=Strict${secure}`;
}

function dropCookie(name) {
  document.cookie = `${name}=; Max-Age=0; Path=/; SameSite=Strict`;
}

// One pane of an item (instruction, response, a conversation turn): its title, its safe HTML, and "raw" to show
// the text exactly as stored.
function paneEl(p) {
  const sec = el("section", `jk-pane jk-pane-${p.key}`);
  sec.dataset.jkPane = p.key;
  const cap = el("div", "jk-caption");
  cap.append(el("span", "", p.title));
  const raw = el("button", "jk-raw", "raw");
  raw.type = "button";
  raw.tabIndex = -1;
  raw.title = "Show the text exactly as stored";
  cap.append(raw);
  const content = el("div", "jk-content");
  content.innerHTML = p.html; // rendered and sanitized on the server (markdown-it without HTML, then nh3)
  const pre = el("pre", "jk-rawtext");
  pre.textContent = p.text;
  pre.hidden = true;
  raw.addEventListener("click", () => {
    pre.hidden = !pre.hidden;
    content.hidden = !pre.hidden;
    raw.classList.toggle("jk-on", !pre.hidden);
  });
  sec.append(cap, content, pre);
  return sec;
}
