"use strict";
// The dashboard's one script; the page's CSP allows exactly this file, by its hash. It
// searches, sorts and filters the tables the server rendered, shows an audience's detail,
// keeps the view in the URL hash and runs the simulate form. It renders with textContent and
// DOM calls only, so nothing the server sends is ever parsed as HTML.
const $ = (id) => document.getElementById(id);
const form = $("simulate-form");

// el makes an element with the given text and class.
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function cell(tr, text, cls) {
  const td = tr.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
}

// The URL hash holds each handler's view as "<handler>.<key>=<value>" pairs and, last, the
// simulation as "sim=<request JSON>", so a link reopens the same view.
const viewKeys = ["q", "origin", "website", "used", "state", "sort", "audience", "rq", "rstatus", "raud", "rule"];
const audienceKeys = ["q", "origin", "website", "used", "state"];
const ruleKeys = ["rq", "rstatus", "raud"];
let simHash = ""; // the simulation request as it stands in the hash, still encoded

// readHash returns the view pairs of the hash and keeps its simulation in simHash. Older
// links hold only "#sim=…", encoded by other means; everything after "sim=" is the request.
function readHash() {
  const hash = location.hash.slice(1);
  let end = hash.length;
  simHash = "";
  const at = hash.startsWith("sim=") ? 0 : hash.indexOf("&sim=");
  if (at >= 0) {
    end = at;
    simHash = hash.slice(hash.indexOf("sim=", at) + 4);
  }
  const pairs = new Map();
  for (const part of hash.slice(0, end).split("&")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    try {
      pairs.set(decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1)));
    } catch (e) { /* a pair that is not valid percent-encoding is ignored */ }
  }
  return pairs;
}

// hashOf is the hash of the current views, with changes made to view v; "" when empty.
function hashOf(v, changes) {
  const parts = [];
  for (const w of views) {
    const st = w === v ? Object.assign({}, w.state, changes) : w.state;
    for (const k of viewKeys) {
      if (st[k]) parts.push(encodeURIComponent(w.name + "." + k) + "=" + encodeURIComponent(st[k]));
    }
  }
  if (simHash) parts.push("sim=" + simHash);
  return parts.length ? "#" + parts.join("&") : "";
}
function replaceHash() {
  history.replaceState(null, "", hashOf() || location.pathname + location.search);
}

// Sorting the audiences: the column, its key and the direction of a first click.
const sortColumns = new Map([[0, ["name", 1]], [1, ["origin", 1]], [4, ["updated", -1]], [5, ["hits", -1]]]);
const collator = new Intl.Collator(undefined, {sensitivity: "base", numeric: true});
const comparators = {
  name: (a, b) => collator.compare(a.name || a.id, b.name || b.id),
  origin: (a, b) => collator.compare(a.origin, b.origin),
  updated: (a, b) => (a.last_updated < b.last_updated ? -1 : a.last_updated > b.last_updated ? 1 : 0),
  hits: (a, b) => a.hits.total - b.hits.total || a.hits.last_5m - b.hits.last_5m,
};
// Audiences without the value sort last either way.
const lacks = {
  origin: (a) => !a.origin,
  updated: (a) => !a.last_updated,
};
function parseSort(s) {
  return s && s.startsWith("-") ? [s.slice(1), -1] : [s || "", 1];
}
function sortAudiences(items, sort) {
  const [key, dir] = parseSort(sort);
  const cmp = comparators[key];
  const lack = lacks[key] || (() => false);
  return items.slice().sort((x, y) => {
    if (!cmp) return x.i - y.i;
    const lx = lack(x.a), ly = lack(y.a);
    if (lx !== ly) return lx ? 1 : -1;
    return dir * cmp(x.a, y.a) || x.i - y.i;
  });
}

// matchesTerms reports whether fields hold every word of query, ignoring case.
function matchesTerms(query, ...fields) {
  const text = fields.join(" ").toLowerCase();
  return query.toLowerCase().split(/\s+/).filter(Boolean).every((t) => text.includes(t));
}
function hasWarning(v, a) {
  return Boolean(a.warning) || (v.hasCatalog && !a.in_catalog);
}
const stateTests = {
  warning: (v, a) => hasWarning(v, a),
  ok: (v, a) => !hasWarning(v, a),
  published: (v, a) => a.lifecycle === "published",
  draft: (v, a) => a.lifecycle === "draft",
  inactive: (v, a) => a.lifecycle === "inactive",
  "not-activated": (v, a) => a.activated === false,
  missing: (v, a) => !a.in_catalog,
};
function audienceShown(v, a) {
  const s = v.state;
  const test = stateTests[s.state];
  return (!s.q || matchesTerms(s.q, a.name, a.id, a.description)) &&
    (!s.origin || a.origin === s.origin) &&
    (!s.website || a.websites.includes(s.website)) &&
    (s.used !== "yes" || a.rules.length > 0) &&
    (s.used !== "no" || a.rules.length === 0) &&
    (!test || test(v, a));
}
function ruleShown(v, r) {
  const s = v.state;
  return (!s.rq || matchesTerms(s.rq, r.id, r.label)) &&
    (!s.rstatus || r.status === s.rstatus) &&
    (!s.raud || r.audiences.some((a) => a.id === s.raud));
}

// setUpView reads one handler's section: its rows and their data, and adds the controls.
function setUpView(section) {
  const v = {
    name: section.dataset.name,
    hasCatalog: section.dataset.catalog === "true",
    state: {},
    controls: {},
    audienceBody: section.querySelector("table.audiences tbody"),
    ruleBody: section.querySelector("table.rules tbody"),
    detail: section.querySelector(".audience-detail"),
    audiences: [],
    rules: [],
  };
  section.querySelectorAll("tr[data-audience]").forEach((row, i) => {
    const a = JSON.parse(row.dataset.audience);
    // The name opens the audience's detail.
    const name = row.querySelector(".name");
    const link = el("a", null, "open");
    name.replaceWith(link);
    link.append(name);
    v.audiences.push({row, i, a, link});
  });
  section.querySelectorAll("tr[data-rule]").forEach((row, i) => {
    row.tabIndex = -1;
    v.rules.push({row, i, r: JSON.parse(row.dataset.rule)});
  });
  v.audienceEmpty = emptyRow("No audience matches the search and filters.");
  v.ruleEmpty = emptyRow("No rule matches the search and filters.");
  setUpControls(v, section.querySelector("[data-controls=audiences]"), audienceKeys, v.audiences.length > 0);
  setUpControls(v, section.querySelector("[data-controls=rules]"), ruleKeys, v.rules.length > 0);
  const distinct = (list) => [...new Set(list.filter(Boolean))].sort(collator.compare);
  addOptions(v.controls.origin, distinct(v.audiences.map((x) => x.a.origin)));
  addOptions(v.controls.website, distinct(v.audiences.flatMap((x) => x.a.websites)));
  const labels = v.audiences.map((x) => [x.a.id, x.a.name ? x.a.name + " (" + x.a.id + ")" : x.a.id]);
  for (const [id, label] of labels.sort((p, q) => collator.compare(p[1], q[1]))) addOption(v.controls.raud, id, label);
  setUpSorting(v, section.querySelector("table.audiences thead tr"));
  return v;
}
function emptyRow(text) {
  const tr = el("tr");
  const td = el("td", text, "muted");
  td.colSpan = 6;
  tr.append(td);
  tr.hidden = true;
  return tr;
}
function setUpControls(v, box, keys, show) {
  for (const k of keys) {
    const c = box.querySelector("[name=" + k + "]");
    v.controls[k] = c;
    c.addEventListener(c.tagName === "INPUT" ? "input" : "change", () => update(v, {[k]: c.value}));
  }
  box.querySelector("button[name=clear]").addEventListener("click", () => {
    update(v, Object.fromEntries(keys.map((k) => [k, ""])));
  });
  box.hidden = !show;
  v[keys === ruleKeys ? "ruleCount" : "audienceCount"] = box.querySelector(".count");
}
function addOption(select, value, text) {
  const o = el("option", text);
  o.value = value;
  select.append(o);
}
function addOptions(select, values) {
  for (const value of values) addOption(select, value, value);
}
function setUpSorting(v, headerRow) {
  v.sortHeaders = [];
  for (const [index, [key, firstDir]] of sortColumns) {
    const th = headerRow && headerRow.cells[index];
    if (!th) continue;
    const button = el("button", th.textContent, "sort");
    button.type = "button";
    button.addEventListener("click", () => {
      const [current, dir] = parseSort(v.state.sort);
      const next = current === key ? -dir : firstDir;
      update(v, {sort: (next < 0 ? "-" : "") + key});
    });
    th.replaceChildren(button);
    v.sortHeaders.push([th, key]);
  }
}

// update changes v's view from its controls, in place in the history.
function update(v, changes) {
  Object.assign(v.state, changes);
  replaceHash();
  showState(v);
}

// showState puts v's view into its controls and renders it.
function showState(v) {
  for (const [k, c] of Object.entries(v.controls)) {
    const value = v.state[k] || "";
    if (c.tagName === "SELECT" && ![...c.options].some((o) => o.value === value)) addOption(c, value, value);
    if (c.value !== value) c.value = value;
  }
  render(v);
}

function render(v) {
  renderAudiences(v);
  renderRules(v);
  renderDetail(v);
}

function renderAudiences(v) {
  if (v.audiences.length === 0) return;
  let shown = 0;
  for (const x of sortAudiences(v.audiences, v.state.sort)) {
    x.row.hidden = !audienceShown(v, x.a);
    if (!x.row.hidden) shown++;
    x.row.classList.toggle("selected", x.a.id === v.state.audience);
    x.link.href = hashOf(v, {audience: x.a.id}) || "#";
    v.audienceBody.append(x.row);
  }
  v.audienceEmpty.hidden = shown > 0;
  v.audienceBody.append(v.audienceEmpty);
  v.audienceCount.textContent = shown === v.audiences.length
    ? plural(shown, "audience")
    : "Showing " + shown + " of " + plural(v.audiences.length, "audience");
  const [key, dir] = parseSort(v.state.sort);
  for (const [th, k] of v.sortHeaders) {
    if (k === key) th.setAttribute("aria-sort", dir < 0 ? "descending" : "ascending");
    else th.removeAttribute("aria-sort");
  }
}

function renderRules(v) {
  if (v.rules.length === 0) return;
  let shown = 0;
  for (const x of v.rules) {
    x.row.hidden = !ruleShown(v, x.r);
    if (!x.row.hidden) shown++;
    x.row.classList.toggle("selected", x.r.id === v.state.rule);
  }
  v.ruleEmpty.hidden = shown > 0;
  v.ruleBody.append(v.ruleEmpty);
  v.ruleCount.textContent = shown === v.rules.length
    ? plural(shown, "rule")
    : "Showing " + shown + " of " + plural(v.rules.length, "rule");
}
function plural(n, word) {
  return n + " " + word + (n === 1 ? "" : "s");
}

const lifecycleWords = {published: "published", draft: "draft (not published)", inactive: "deactivated (inactive)"};

// renderDetail shows the audience the view names: its catalog entry, state, hits and the
// rules that use it, each linking to its row in the rules table.
function renderDetail(v) {
  const panel = v.detail;
  const x = v.state.audience && v.audiences.find((y) => y.a.id === v.state.audience);
  panel.replaceChildren();
  panel.hidden = !x;
  if (!x) return;
  const a = x.a;

  const head = el("div", null, "detail-head");
  const title = el("h4", a.name || a.id);
  title.id = panel.id + "-title";
  title.tabIndex = -1;
  const close = el("button", "Close", "secondary");
  close.type = "button";
  close.addEventListener("click", () => {
    location.hash = hashOf(v, {audience: ""}) || "#";
  });
  head.append(title, close);
  panel.append(head);
  for (const w of detailWarnings(v, a)) panel.append(el("div", w, "warning"));

  const dl = el("dl");
  const item = (term, value) => {
    const dd = el("dd");
    dd.append(value);
    dl.append(el("dt", term), dd);
  };
  item("ID", el("code", a.id));
  item("Description", a.description || "—");
  item("Origin", a.origin || "—");
  item("Websites", a.websites.length ? a.websites.join(", ") : "—");
  item("Last updated", a.last_updated || "—");
  item("Lifecycle in Experience Platform", lifecycleWords[a.lifecycle] || a.lifecycle || "not stated");
  item("Activated to the store's destination", a.activated === true ? "yes" : a.activated === false ? "no" : "not stated");
  item("Dataflows", a.flows && a.flows.length ? a.flows.join(", ") : a.activated === undefined ? "not stated" : "none");
  item("Hits", a.hits.total + " since start, " + a.hits.last_5m + " in the last 5 minutes");
  panel.append(dl);

  panel.append(el("h5", a.rules.length ? "Cart price rules that use it (" + a.rules.length + ")" : "No cart price rule uses it."));
  if (a.rules.length === 0) return;
  const list = el("ul");
  for (const id of a.rules) {
    const li = el("li");
    const link = el("a");
    link.href = hashOf(v, {rule: id, rq: "", rstatus: "", raud: ""});
    link.append(el("code", id));
    li.append(link);
    const rule = v.rules.find((y) => y.r.id === id);
    if (rule) li.append(" " + (rule.r.label ? rule.r.label + " " : ""), el("span", rule.r.status, "badge " + rule.r.status));
    list.append(li);
  }
  panel.append(list);
  const only = el("a", "Show only these rules in the rules table");
  only.href = hashOf(v, {raud: a.id, rq: "", rstatus: "", rule: ""});
  const p = el("p");
  p.append(only);
  panel.append(p);
}
function detailWarnings(v, a) {
  const out = [];
  if (a.warning) out.push("Rules should not rely on this audience: " + a.warning + ".");
  if (v.hasCatalog && !a.in_catalog) out.push("Rules name this audience, but the audience catalog lacks it.");
  return out;
}

// applyHash sets every view from the hash. After a navigation (a link, Back), the audience or
// rule it newly names is scrolled to and focused.
function applyHash() {
  const pairs = readHash();
  for (const v of views) {
    const before = v.state;
    v.state = {};
    for (const k of viewKeys) {
      const value = pairs.get(v.name + "." + k);
      if (value) v.state[k] = value;
    }
    showState(v);
    if (v.state.audience && v.state.audience !== before.audience && !v.detail.hidden) {
      v.detail.scrollIntoView({block: "nearest"});
      $(v.detail.id + "-title").focus({preventScroll: true});
    } else if (v.state.rule && v.state.rule !== before.rule) {
      const x = v.rules.find((y) => y.r.id === v.state.rule);
      if (x) {
        x.row.scrollIntoView({block: "center"});
        x.row.focus({preventScroll: true});
      }
    }
  }
}

const views = [...document.querySelectorAll("section.handler[data-name]")].map(setUpView);
window.addEventListener("hashchange", applyHash);
applyHash();

async function post(path, body) {
  const resp = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: body});
  const text = await resp.text();
  try { return {status: resp.status, data: JSON.parse(text)}; } catch (e) { return {status: resp.status, data: {error: text}}; }
}
function show(status, data) {
  $("result-json").textContent = JSON.stringify(data, null, 2);
  $("summary").textContent = status === 200 && !data.error
    ? "Total discount " + data.total_discount + " (shipping " + data.shipping_discount + ")"
    : "Error (" + status + "): " + data.error;
  const amounts = {};
  for (const d of data.discounts || []) amounts[d.rule_id] = (amounts[d.rule_id] || 0) + d.amount;
  for (const t of data.trace || []) {
    const tr = $("trace-rows").insertRow();
    if (t.applied) tr.className = "applied";
    cell(tr, t.rule_id);
    cell(tr, t.applied ? "yes" : "no");
    cell(tr, t.reason || "");
    cell(tr, t.rule_id in amounts ? amounts[t.rule_id].toFixed(2) : "", "num");
  }
}
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = form.elements;
  $("result").hidden = false;
  $("trace-rows").replaceChildren();
  $("result-json").textContent = "";
  let cart;
  try { cart = JSON.parse(f.cart.value); } catch (e) {
    $("summary").textContent = "The cart is not valid JSON: " + e.message;
    return;
  }
  const req = {cart: cart, segments: f.segments.value.split(",").map((s) => s.trim()).filter(Boolean)};
  for (const k of ["at", "store", "handler"]) if (f[k].value.trim()) req[k] = f[k].value.trim();
  simHash = encodeURIComponent(JSON.stringify(req));
  replaceHash();
  $("summary").textContent = "Simulating…";
  const {status, data} = await post("simulate", JSON.stringify(req));
  show(status, data);
});
// A link with sim=<request JSON> opens with that simulation filled in and run, so a
// merchandiser can share it.
if (simHash) {
  try {
    const req = JSON.parse(decodeURIComponent(simHash));
    const f = form.elements;
    f.cart.value = JSON.stringify(req.cart, null, 2);
    f.segments.value = (req.segments || []).join(",");
    for (const k of ["at", "store", "handler"]) if (typeof req[k] === "string") f[k].value = req[k];
    form.requestSubmit();
  } catch (e) {
    $("result").hidden = false;
    $("summary").textContent = "The simulation in the link is not valid: " + e.message;
  }
}
$("reload").addEventListener("click", async () => {
  $("reload-status").textContent = "Reloading…";
  const {status, data} = await post("reload", "");
  if (status === 200) { location.reload(); return; }
  $("reload-status").textContent = "Reload failed: " + data.error;
});
