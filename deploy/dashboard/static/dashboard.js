"use strict";
// The live dashboard: holds the latest cell per id from /events (server-sent events) and
// draws each view of views.js as plain SVG, with a table view and keyboard-reachable figures.

const SVG = "http://www.w3.org/2000/svg";
const cells = new Map(); // id -> cell
const choices = {}; // view id -> {dimension: chosen value}
let dirty = new Set();
let scheduled = false;

function el(tag, attrs = {}, text) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function cellsOf(view) {
  const out = [];
  for (const c of cells.values()) {
    if (c.aggregate === view.aggregate && c.table === view.table) out.push(c);
  }
  return out;
}

function measure(cell, name) {
  return cell.measures.find((m) => m.name === name);
}

// ---------------------------------------------------------------- layout and filters

function buildSections() {
  const nav = document.getElementById("sections");
  const main = document.getElementById("main");
  const list = el("ul");
  for (const view of VIEWS) {
    const section = el("section", { id: view.id, "aria-labelledby": `${view.id}-title` });
    section.append(el("p", { class: "kicker" }, view.section));
    section.append(el("h2", { id: `${view.id}-title` }, view.title));
    section.append(el("div", { class: "filters" }));
    section.append(el("div", { class: "chart", "data-empty": "true" }, "No cells published yet."));
    const details = el("details", { class: "table-view" });
    details.append(el("summary", {}, "Table view"));
    details.append(el("div", { class: "table-wrap" }));
    section.append(details);
    main.append(section);
    const item = el("li");
    item.append(el("a", { href: `#${view.id}` }, view.title));
    list.append(item);
    choices[view.id] = {};
  }
  nav.append(list);
}

function defaultChoice(dim, values) {
  if (values.includes("ALL")) return "ALL";
  return values[values.length - 1];
}

function renderFilters(view, section, all) {
  const box = section.querySelector(".filters");
  const chosen = choices[view.id];
  for (const dim of view.filters) {
    const values = [...new Set(all.map((c) => c.dimensions[dim]))].sort();
    if (!values.length) continue;
    if (!values.includes(chosen[dim])) chosen[dim] = defaultChoice(dim, values);
    let select = box.querySelector(`select[data-dim="${dim}"]`);
    if (!select) {
      const id = `${view.id}-${dim}`;
      const label = el("label", { for: id }, humanise(dim));
      select = el("select", { id, "data-dim": dim });
      select.addEventListener("change", () => {
        chosen[dim] = select.value;
        render(view);
      });
      box.append(label, select);
    }
    const current = [...select.options].map((o) => o.value).join("\u0000");
    if (current !== values.join("\u0000")) {
      select.replaceChildren(...values.map((v) => el("option", { value: v }, v)));
    }
    select.value = chosen[dim];
  }
}

// ---------------------------------------------------------------- the chart (SVG)

function describe(view, cell, s, m) {
  const where = view.filters.map((d) => `${humanise(d)} ${cell.dimensions[d]}`).join(", ");
  const what = `${s.label}, ${cell.dimensions[view.category]} (${where})`;
  return m.status === "SUPPRESSED" ? `${what}: ${suppressionText(m)}` : `${what}: ${formatValue(m, view.scale)}`;
}

function renderChart(view, section, rows) {
  const box = section.querySelector(".chart");
  if (!rows.length) {
    box.setAttribute("data-empty", "true");
    box.replaceChildren(document.createTextNode("No cells published yet."));
    return;
  }
  box.removeAttribute("data-empty");
  const focusedId = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.figure : null;
  const labelW = 220, barH = 16, gap = 10, width = 720, plotW = width - labelW - 90;
  const groupH = view.series.length * barH + gap;
  const height = rows.length * groupH + 12;
  let max = view.scale.max;
  if (!max) {
    max = Math.max(1, ...rows.flatMap((c) => view.series.map((s) => (measure(c, s.measure) || {}).value || 0)));
  }
  const titleId = `${view.id}-title`;
  const svg = el("svg:svg", {
    viewBox: `0 0 ${width} ${height}`, role: "group", "aria-labelledby": titleId, class: "bars",
  });
  rows.forEach((cell, r) => {
    const y0 = 6 + r * groupH;
    svg.append(el("svg:text", { x: labelW - 8, y: y0 + groupH / 2, class: "category", "text-anchor": "end" },
      humanise(cell.dimensions[view.category])));
    view.series.forEach((s, i) => {
      const m = measure(cell, s.measure);
      if (!m) return;
      const y = y0 + i * barH;
      const figure = `${cell.id}#${s.measure}`;
      const g = el("svg:g", {
        tabindex: "0", role: "img", class: `figure ${m.status === "SUPPRESSED" ? "suppressed" : "published"}`,
        "aria-label": describe(view, cell, s, m), "data-figure": figure, "data-cell-id": cell.id,
        "data-measure": s.measure, "data-status": m.status,
      });
      if (m.status === "SUPPRESSED") {
        g.append(el("svg:rect", { x: labelW, y, width: 24, height: barH - 3, class: "bar hatched" }));
        g.append(el("svg:text", { x: labelW + 30, y: y + barH - 5, class: "value" }, "suppressed"));
      } else {
        const w = Math.max(1, (plotW * (m.value || 0)) / max);
        g.append(el("svg:rect", { x: labelW, y, width: w, height: barH - 3, class: `bar ${s.cls}` }));
        g.append(el("svg:text", { x: labelW + w + 6, y: y + barH - 5, class: "value" }, formatValue(m, view.scale)));
      }
      g.append(el("svg:title", {}, describe(view, cell, s, m)));
      attachTooltip(g, view, cell, s, m);
      svg.append(g);
    });
  });
  const legend = el("ul", { class: "legend-keys", "aria-label": "Key" });
  for (const s of view.series) {
    const item = el("li");
    item.append(el("span", { class: `key ${s.cls}`, "aria-hidden": "true" }), document.createTextNode(s.label));
    legend.append(item);
  }
  box.replaceChildren(legend, svg);
  if (focusedId) {
    const again = box.querySelector(`[data-figure="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
}

// ---------------------------------------------------------------- tooltip

function tooltipContent(view, cell, s, m) {
  const tip = document.getElementById("tooltip");
  tip.replaceChildren();
  tip.append(el("p", { class: "tip-title" }, `${s.label}: ${humanise(cell.dimensions[view.category])}`));
  if (m.status === "SUPPRESSED") {
    tip.append(el("p", { class: "tip-suppressed", "data-reason": m.suppression }, suppressionText(m)));
  } else {
    tip.append(el("p", { class: "tip-value" }, `${formatValue(m, view.scale)}${m.unit ? ` (${m.unit})` : ""}`));
  }
  if (view.annotations) {
    for (const [k, v] of Object.entries(cell.annotations || {})) tip.append(el("p", {}, `${humanise(k)}: ${v}`));
  }
  if (view.statements) {
    if (cell.statements.length) {
      tip.append(el("p", { class: "tip-heading" }, "In their own words:"));
      for (const st of cell.statements) tip.append(el("blockquote", { class: "statement" }, st.text));
    } else {
      tip.append(el("p", { class: "tip-note" }, "No statements published with this cell."));
    }
  }
}

function showTooltip(target, view, cell, s, m) {
  const tip = document.getElementById("tooltip");
  tooltipContent(view, cell, s, m);
  const box = target.getBoundingClientRect();
  tip.hidden = false;
  tip.style.left = `${Math.min(window.scrollX + box.left, window.scrollX + window.innerWidth - 380)}px`;
  tip.style.top = `${window.scrollY + box.bottom + 6}px`;
  target.setAttribute("aria-describedby", "tooltip");
}

function hideTooltip(target) {
  document.getElementById("tooltip").hidden = true;
  if (target) target.removeAttribute("aria-describedby");
}

function attachTooltip(g, view, cell, s, m) {
  g.addEventListener("mouseenter", () => showTooltip(g, view, cell, s, m));
  g.addEventListener("focus", () => showTooltip(g, view, cell, s, m));
  g.addEventListener("mouseleave", () => hideTooltip(g));
  g.addEventListener("blur", () => hideTooltip(g));
  g.addEventListener("keydown", (e) => { if (e.key === "Escape") hideTooltip(g); });
}

// ---------------------------------------------------------------- table view

function renderTable(view, section, rows) {
  const wrap = section.querySelector(".table-wrap");
  const table = el("table");
  table.append(el("caption", {}, `${view.title} (${view.filters.map((d) => `${humanise(d)} ${choices[view.id][d]}`).join(", ")})`));
  const head = el("tr");
  head.append(el("th", { scope: "col" }, humanise(view.category)));
  const names = [...view.series.map((s) => s.measure), ...view.extra];
  for (const n of names) head.append(el("th", { scope: "col" }, humanise(n)));
  if (view.statements) head.append(el("th", { scope: "col" }, "Statements"));
  if (view.annotations) head.append(el("th", { scope: "col" }, "Notes"));
  const thead = el("thead");
  thead.append(head);
  table.append(thead);
  const body = el("tbody");
  for (const cell of rows) {
    const tr = el("tr", { "data-cell-id": cell.id });
    tr.append(el("th", { scope: "row" }, humanise(cell.dimensions[view.category])));
    for (const n of names) {
      const m = measure(cell, n);
      const td = el("td", m && m.status === "SUPPRESSED" ? { class: "suppressed", title: suppressionText(m) } : {},
        m ? formatValue(m, view.scale) : "");
      if (m && m.status === "SUPPRESSED") td.append(el("span", { class: "visually-hidden" }, ` ${suppressionText(m)}`));
      tr.append(td);
    }
    if (view.statements) tr.append(el("td", {}, cell.statements.map((s) => `“${s.text}”`).join(" ")));
    if (view.annotations) tr.append(el("td", {}, Object.entries(cell.annotations || {}).map(([k, v]) => `${humanise(k)}: ${v}`).join("; ")));
    body.append(tr);
  }
  table.append(body);
  wrap.replaceChildren(table);
}

// ---------------------------------------------------------------- rendering and the feed

function render(view) {
  const section = document.getElementById(view.id);
  const all = cellsOf(view);
  renderFilters(view, section, all);
  const chosen = choices[view.id];
  const rows = all
    .filter((c) => view.filters.every((d) => c.dimensions[d] === chosen[d]))
    .sort((a, b) => String(a.dimensions[view.category]).localeCompare(String(b.dimensions[view.category])));
  renderChart(view, section, rows);
  renderTable(view, section, rows);
}

function scheduleRender(changed) {
  for (const c of changed) dirty.add(`${c.aggregate}|${c.table}`);
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    const now = dirty;
    dirty = new Set();
    for (const view of VIEWS) {
      if (!now.has(`${view.aggregate}|${view.table}`)) continue;
      try {
        render(view);
      } catch (err) {
        console.error(`dashboard: cannot draw ${view.id}`, err); // one chart, not the page
      }
    }
    const count = document.getElementById("cell-count");
    count.dataset.count = String(cells.size);
    count.textContent = `${cells.size} cells`;
  }, 200);
}

function setLastPublished(iso) {
  if (!iso) return;
  const t = document.getElementById("last-published");
  t.setAttribute("datetime", iso);
  t.textContent = new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" });
}

function connect() {
  const state = document.getElementById("connection");
  const source = new EventSource("/events");
  source.addEventListener("open", () => { state.dataset.state = "live"; state.textContent = "Live"; });
  source.addEventListener("error", () => { state.dataset.state = "reconnecting"; state.textContent = "Reconnecting…"; });
  source.addEventListener("snapshot", (e) => {
    const data = JSON.parse(e.data);
    const gone = [...cells.values()];
    cells.clear();
    for (const c of data.cells) cells.set(c.id, c);
    setLastPublished(data.last_published);
    scheduleRender([...gone, ...data.cells]);
  });
  source.addEventListener("update", (e) => {
    const data = JSON.parse(e.data);
    const changed = [];
    for (const id of data.removed) { const c = cells.get(id); if (c) { changed.push(c); cells.delete(id); } }
    for (const c of data.upserts) { cells.set(c.id, c); changed.push(c); }
    setLastPublished(data.last_published);
    scheduleRender(changed);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  buildSections();
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") hideTooltip(document.activeElement); });
  connect();
});
