
"use strict";
const $ = (id) => document.getElementById(id);
const form = $("simulate-form");
function cell(tr, text, cls) {
  const td = tr.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
}
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
  history.replaceState(null, "", "#sim=" + encodeURIComponent(JSON.stringify(req)));
  $("summary").textContent = "Simulating…";
  const {status, data} = await post("simulate", JSON.stringify(req));
  show(status, data);
});
// A link ending in #sim=<request JSON> opens with that simulation filled in and run, so a
// merchandiser can share it.
if (location.hash.startsWith("#sim=")) {
  try {
    const req = JSON.parse(decodeURIComponent(location.hash.slice(5)));
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
