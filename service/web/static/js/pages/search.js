import { api } from "../api.js";
import { empty, fill, h, highlight, loading, showError } from "../dom.js";
import { COLLECTION_LABELS, FOCUS_SHORT, focusLabel, kindLabel, pageLabel, percent } from "../format.js";
import { watchStartup } from "../startup.js";

const form = document.getElementById("search-form");
const results = document.getElementById("results");
const FIELDS = ["q", "collection", "mode", "inspection_id", "kind", "focus", "unit", "year", "item", "k"];
const DEFAULTS = { collection: "all", mode: "hybrid", k: "10" };

function readForm() {
  const params = {};
  for (const name of FIELDS) {
    const value = form.elements.namedItem(name).value.trim();
    if (value && value !== DEFAULTS[name]) params[name] = value;
  }
  if (form.elements.namedItem("include_demo").checked) params.include_demo = "true";
  return params;
}

function writeForm(params) {
  for (const name of FIELDS) {
    if (params.has(name)) form.elements.namedItem(name).value = params.get(name);
  }
  form.elements.namedItem("include_demo").checked = params.get("include_demo") === "true";
}

function hitCard(hit) {
  const isFinding = hit.collection === "findings";
  const meta = [
    hit.inspection, hit.unit, hit.year ? `${hit.year}年` : null, hit.kind !== "case" ? kindLabel(hit.kind) : null,
    isFinding && hit.filename ? hit.filename : null, pageLabel(hit.page),
    !isFinding && hit.external_id ? `案例编号 ${hit.external_id}` : null,
  ].filter(Boolean);
  // People see 高/中/低 相关 and why; the raw scores stay in the API fields (and a tooltip).
  const level = hit.level ? `${hit.level}相关` : null;
  const rawScores = [`综合 ${hit.score.toFixed(3)}`,
    hit.vector_score !== null && hit.vector_score !== undefined ? `语义 ${hit.vector_score.toFixed(3)}` : null,
    hit.keyword_score !== null && hit.keyword_score !== undefined ? `关键词 ${hit.keyword_score.toFixed(3)}` : null,
  ].filter(Boolean).join(" · ");
  const reasons = (hit.reasons && hit.reasons.length) ? hit.reasons.join("；")
    : (hit.matched || []).length ? `命中词：${[...new Set(hit.matched.map((m) => m.term))].join("、")}` : "语义相近";
  const text = h("p", { class: "hit-text" }, highlight(hit.text, hit.matched));
  return h("li", { class: "card hit", dataset: { collection: hit.collection, hitId: String(hit.id) } },
    h("div", { class: "hit-head" },
      h("span", { class: ["badge", isFinding ? "badge-finding" : "badge-case"] }, COLLECTION_LABELS[hit.collection]
        || hit.collection),
      h("span", { class: "muted small" }, meta.join(" · ")),
      level ? h("span", { class: ["badge", "hit-level", `hit-level-${hit.level}`], title: rawScores }, level) : null),
    text,
    h("div", { class: "hit-foot" },
      h("div", { class: "chips" },
        (hit.items || []).map((id) => h("a", { class: "chip chip-small", href: `/checklist?item=${encodeURIComponent(id)}` },
          h("span", { class: "chip-id" }, id))),
        (hit.focus || []).map((f) => h("span", { class: "chip chip-small chip-quiet", title: focusLabel(f) },
          FOCUS_SHORT[f] || f))),
      !isFinding && (hit.disposal || hit.sanction)
        ? h("span", { class: "small" }, [hit.disposal && `处置：${hit.disposal}`, hit.sanction && `处理：${hit.sanction}`]
          .filter(Boolean).join("；")) : null,
      isFinding && hit.document_id
        ? h("a", { class: "button button-small", href: `/documents/${Number(hit.document_id)}#finding-${Number(hit.id)}` },
          "查看原文") : null,
      h("span", { class: "muted small hit-reasons" }, reasons)));
}

let sequence = 0;
async function run(params) {
  const mine = ++sequence;
  fill(results, loading("正在检索…"));
  try {
    const found = await api("/api/search", { params });
    if (mine !== sequence) return;
    if (found.indexing) { // xuncha serve is still building the index: its message, not "no results"
      fill(results, h("div", { class: "card" }, empty(found.message)));
      return;
    }
    if (!found.hits.length) {
      fill(results, h("div", { class: "card" }, empty(`没有相关结果：没有与“${found.query}”足够相关的内容，可以换个说法或放宽筛选条件。`)));
      return;
    }
    fill(results, h("p", { class: "muted" }, `“${found.query}”的检索结果：${found.hits.length} 条`),
      h("ol", { class: "hits" }, found.hits.map(hitCard)));
  } catch (error) {
    if (mine === sequence) showError(results, error);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const params = readForm();
  if (!params.q) {
    fill(results, h("div", { class: "alert alert-error", role: "alert" }, "请输入检索内容"));
    return;
  }
  history.replaceState(null, "", "/search?" + new URLSearchParams(params).toString());
  run(params);
});

async function loadInspections(selected) {
  const select = form.elements.inspection_id;
  try {
    const inspections = await api("/api/inspections");
    for (const inspection of inspections) {
      select.append(h("option", { value: String(inspection.id) }, `${inspection.name}（${inspection.team}）`));
    }
    if (selected) select.value = selected;
  } catch {
    // The filter stays at “全部”; search itself reports any problem.
  }
}

const initial = new URLSearchParams(location.search);
await loadInspections(initial.get("inspection_id"));
writeForm(initial);
if (initial.get("q")) run(readForm());
else form.elements.q.focus();

watchStartup(document.getElementById("startup-banner"));
