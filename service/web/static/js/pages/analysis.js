// 共性问题分析: counts across rounds and units as bar charts (Chart.js, bundled) and tables of recurring items.
import { api, query } from "../api.js";
import { empty, fill, h, loading, showError } from "../dom.js";
import { FOCUS_SHORT } from "../format.js";
import { unitLink } from "../links.js";

const form = document.getElementById("analysis-filters");
const roundSelect = document.getElementById("analysis-inspection");
const yearInput = document.getElementById("analysis-year");
const demoBox = document.getElementById("analysis-demo");
const status = document.getElementById("analysis-status");
const summary = document.getElementById("analysis-summary");
const charts = document.getElementById("analysis-charts");
const exportLink = document.getElementById("analysis-export");
const drawn = {};

const COLOURS = ["#b42318", "#1d4ed8", "#047857", "#b45309", "#6d28d9", "#0e7490", "#be185d", "#4d7c0f", "#475569", "#9a3412"];

function params() {
  const out = {};
  if (roundSelect.value) out.inspection_id = roundSelect.value;
  if (yearInput.value) out.year = yearInput.value;
  if (demoBox.checked) out.include_demo = "true";
  return out;
}

function bars(id, rows, label) {
  const Chart = window.Chart;
  if (drawn[id]) drawn[id].destroy();
  const canvas = document.getElementById(id);
  drawn[id] = new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map((r) => r.label),
      datasets: [{ label, data: rows.map((r) => r.count), backgroundColor: rows.map((_, i) => COLOURS[i % COLOURS.length]) }],
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      indexAxis: rows.length > 5 ? "y" : "x",
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${label}：${c.parsed[rows.length > 5 ? "x" : "y"]}` } } },
      scales: { x: { ticks: { precision: 0 } }, y: { ticks: { precision: 0 } } },
    },
  });
  canvas.dataset.points = String(rows.length);
}

function table(headers, rows) {
  return h("table", { class: "table" },
    h("thead", null, h("tr", null, headers.map((t) => h("th", null, t)))),
    h("tbody", null, rows.map((cells) => h("tr", null, cells.map((c) => h("td", null, c instanceof Node || Array.isArray(c) ? c : String(c)))))));
}

function units(names) {
  return names.map((name, i) => [i ? "、" : "", unitLink(name, { demo: demoBox.checked })]);
}

function render(data) {
  const t = data.totals;
  summary.hidden = false;
  fill(summary, h("div", { class: "analysis-totals" },
    h("span", null, "巡察轮次 ", h("strong", null, String(t.rounds)), " 个"),
    h("span", null, "被巡察单位 ", h("strong", null, String(t.units)), " 个"),
    h("span", null, "问题 ", h("strong", { id: "analysis-total" }, String(t.findings)), " 条"),
    h("span", null, "共性问题 ", h("strong", null, String(data.recurring.length)), " 项")));
  if (!t.findings) {
    charts.hidden = true;
    document.getElementById("analysis-recurring-card").hidden = true;
    document.getElementById("analysis-repeats-card").hidden = true;
    fill(status, empty("范围内还没有标注为问题或审核确认的问题。"));
    return;
  }
  fill(status);
  charts.hidden = false;
  bars("chart-focus", data.by_focus.map((r) => ({ ...r, label: FOCUS_SHORT[r.key] || r.label })), "问题数");
  bars("chart-items", data.by_item.slice(0, 10), "问题数");
  bars("chart-discipline", data.by_discipline, "问题数");
  bars("chart-unit-type", data.by_unit_type, "问题数");
  const recurringCard = document.getElementById("analysis-recurring-card");
  recurringCard.hidden = false;
  fill(document.getElementById("analysis-recurring"), data.recurring.length
    ? table(["清单条目", "名称", "三个聚焦", "涉及轮次", "涉及单位", "问题数", "单位"],
      data.recurring.map((r) => [r.item_id, r.title, FOCUS_SHORT[r.focus] || r.focus_label, r.rounds, r.units, r.findings, units(r.unit_names)]))
    : empty("没有在两个及以上轮次或单位发现的问题。"));
  const repeatsCard = document.getElementById("analysis-repeats-card");
  repeatsCard.hidden = false;
  fill(document.getElementById("analysis-repeats"), data.repeat_units.length
    ? table(["被巡察单位", "单位类型", "再次出现的条目数", "巡察轮次", "问题数", "再次出现的条目"],
      data.repeat_units.map((r) => [unitLink(r.unit, { demo: demoBox.checked }), r.unit_type, r.repeats, r.rounds, r.findings, r.items.join("、")]))
    : empty("没有在同一单位两轮及以上巡察中都发现的问题。"));
}

async function load() {
  const p = params();
  exportLink.setAttribute("href", `/api/analysis/export.xlsx${query(p)}`);
  fill(status, loading("正在统计…"));
  try {
    render(await api("/api/analysis", { params: p }));
  } catch (error) {
    showError(status, error);
  }
}

async function rounds() {
  try {
    const list = await api("/api/inspections");
    for (const r of list) roundSelect.append(h("option", { value: String(r.id) }, r.demo ? `${r.name}（示例）` : r.name));
  } catch (error) {
    showError(status, error);
  }
  const wanted = new URLSearchParams(location.search).get("inspection_id");
  if (wanted) roundSelect.value = wanted;
}

form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
rounds().then(load);
