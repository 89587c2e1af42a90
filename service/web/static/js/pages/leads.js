import { api } from "../api.js";
import { empty, fill, h, highlight, loading, showError } from "../dom.js";
import { GRADES, kindLabel, pageLabel, percent } from "../format.js";

const main = document.getElementById("main");
const scope = main.dataset.scope;
const id = Number(main.dataset.id);
const box = document.getElementById("leads");

const GRADE_NOTES = {
  进一步了解关注类: "反映具体、来源多或有往届同类案例，建议重点核查",
  了解关注类: "有一定具体内容，建议进一步了解",
  参考类: "内容较笼统，供参考",
};

function termSpans(text, terms) {
  const spans = [];
  for (const term of terms || []) {
    if (!term) continue;
    let at = text.indexOf(term);
    while (at >= 0) {
      spans.push({ start: at, end: at + term.length });
      at = text.indexOf(term, at + term.length);
    }
  }
  return spans;
}

function sourceItem(source) {
  return h("li", null,
    h("a", { href: `/documents/${Number(source.document_id)}#finding-${Number(source.finding_id)}` }, source.filename),
    h("span", { class: "muted small" }, ` · ${kindLabel(source.kind)}${source.page ? " · " + pageLabel(source.page) : ""}`),
    h("blockquote", { class: "quote" }, source.text));
}

function caseItem(item) {
  const meta = [item.unit, item.year ? `${item.year}年` : null, item.items && item.items.length ? item.items.join("、") : null,
    item.similarity !== null && item.similarity !== undefined ? `相似度 ${percent(item.similarity)}` : null]
    .filter(Boolean).join(" · ");
  return h("li", null,
    h("p", { class: "case-text" }, highlight(item.text, termSpans(item.text, item.matched))),
    h("p", { class: "muted small" }, meta,
      item.disposal ? ` · 处置：${item.disposal}` : "", item.sanction ? ` · 处理：${item.sanction}` : ""));
}

function leadCard(lead) {
  return h("article", { class: "card lead", dataset: { itemId: lead.item_id } },
    h("div", { class: "lead-head" },
      h("a", { class: "chip chip-label", href: `/checklist?item=${encodeURIComponent(lead.item_id)}` },
        h("span", { class: "chip-id" }, lead.item_id), lead.item_title),
      (lead.items || []).slice(1).map((item) => h("a", { class: "chip chip-label also-item", title: "同一问题也涉及的清单条目",
        href: `/checklist?item=${encodeURIComponent(item)}` }, h("span", { class: "chip-id" }, item))),
      h("span", { class: "badge badge-disposal", title: "建议处置方式" }, `建议：${lead.disposal}`),
      h("span", { class: "muted small" }, `得分 ${lead.score.toFixed(2)}`)),
    h("p", { class: "lead-wording" }, lead.wording),
    lead.alternatives && lead.alternatives.length
      ? h("details", { class: "lead-section small" }, h("summary", null, `其他表述（${lead.alternatives.length}）`),
        h("ul", null, lead.alternatives.map((text) => h("li", null, text)))) : null,
    lead.persons && lead.persons.length
      ? h("p", { class: "small" }, h("span", { class: "muted" }, "涉及人员："), lead.persons.join("、")) : null,
    lead.reasons && lead.reasons.length
      ? h("div", { class: "small" }, h("span", { class: "muted" }, "定级依据："),
        h("ul", { class: "reasons" }, lead.reasons.map((r) => h("li", null, r)))) : null,
    h("details", { class: "lead-section", open: lead.sources.length <= 2 },
      h("summary", null, `来源材料（${lead.sources.length}）`),
      h("ul", { class: "sources" }, lead.sources.map(sourceItem))),
    lead.similar_cases && lead.similar_cases.length
      ? h("details", { class: "lead-section" }, h("summary", null, `往届相似案例（${lead.similar_cases.length}）`),
        h("ul", { class: "cases" }, lead.similar_cases.map(caseItem)))
      : h("p", { class: "muted small" }, "没有找到相似的往届案例"));
}

async function init() {
  fill(box, loading("正在生成问题线索（对照负面清单和往届案例），可能需要几秒钟…"));
  const path = scope === "document" ? `/api/documents/${id}/leads` : `/api/inspections/${id}/leads`;
  let leads;
  try {
    leads = await api(path);
  } catch (error) {
    showError(box, error);
    return;
  }
  if (!leads.length) {
    fill(box, h("div", { class: "card" }, empty("没有形成问题线索：材料中没有被判定为疑似问题的内容。")));
    return;
  }
  const grades = [...GRADES, ...new Set(leads.map((l) => l.grade).filter((g) => !GRADES.includes(g)))];
  const sections = grades.map((grade) => {
    const group = leads.filter((lead) => lead.grade === grade);
    if (!group.length) return null;
    return h("section", { class: "grade-group", dataset: { grade } },
      h("h2", null, grade, h("span", { class: "count" }, `${group.length} 条`),
        GRADE_NOTES[grade] ? h("span", { class: "muted small grade-note" }, GRADE_NOTES[grade]) : null),
      group.map(leadCard));
  });
  fill(box, h("p", { class: "muted" }, `共 ${leads.length} 条线索`), sections);
}

init().catch((error) => showError(box, error));
