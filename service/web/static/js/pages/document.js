import { api } from "../api.js";
import { alertBox, empty, fill, h, highlight, loading, messageOf, showError } from "../dom.js";
import {
  FIELD_LABELS, FOCUS_SHORT, REVIEW_LABELS, canWrite, dateTime, fileSize, focusLabel, kindLabel, money, pageLabel,
  percent, setTitle,
} from "../format.js";
import { countsBar, evidenceBlock, reviewCounts } from "../evidence.js";
import { itemPicker } from "../picker.js";
import { personLink } from "../links.js";

const main = document.getElementById("main");
const documentId = Number(main.dataset.documentId);
const pageBody = document.getElementById("page-body");
const pageError = document.getElementById("page-error");
const textBox = document.getElementById("doc-text");
const findingsBox = document.getElementById("findings");
const showAll = document.getElementById("show-all");
const countsBox = document.getElementById("review-counts");
let currentFindings = [];

const isFinding = (finding) => Boolean(finding.tags && finding.tags.is_finding);

// ----- header and structured fields

function fieldValue(name, value) {
  if (name === "reported") {
    return value.map((person, i) => {
      const extra = [person.position, person.unit].filter(Boolean).join("，");
      const who = person.name && person.name !== "匿名" ? personLink(person.name) : person.name;
      return [i ? "；" : "", who, extra ? `（${extra}）` : ""];
    });
  }
  if (name === "interviewee") return personLink(String(value));
  if (name === "amounts") return value.map(money).join("、");
  if (["agenda", "decisions", "allegations"].includes(name)) {
    return h("ol", { class: "field-list" }, value.map((entry) => h("li", null, entry)));
  }
  if (Array.isArray(value)) return value.join("、");
  return String(value);
}

function renderFields(fields) {
  const box = document.getElementById("fields");
  const rows = [];
  for (const [name, value] of Object.entries(fields || {})) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) continue;
    rows.push(h("div", { class: "field-row" }, h("dt", null, FIELD_LABELS[name] || name),
      h("dd", { dataset: { field: name } }, fieldValue(name, value))));
  }
  if (rows.length) fill(box, rows);
  else document.getElementById("fields-card").hidden = true;
}

function renderHeader(doc) {
  setTitle(doc.filename);
  document.getElementById("document-title").textContent = doc.filename;
  document.getElementById("crumb").textContent = doc.filename;
  const crumb = document.getElementById("crumb-inspection");
  crumb.textContent = doc.inspection;
  crumb.setAttribute("href", `/inspections/${Number(doc.inspection_id)}`);
  const meta = [
    `${kindLabel(doc.kind)}${doc.kind_overridden ? "（人工指定）" : `（识别置信度 ${percent(doc.kind_score)}）`}`,
    doc.year ? `${doc.year} 年` : null, `${doc.pages} 页`, fileSize(doc.size), `导入于 ${dateTime(doc.created_at)}`,
    doc.encoding ? `编码 ${doc.encoding}` : null,
    doc.ocr_pages && doc.ocr_pages.length ? `第 ${doc.ocr_pages.join("、")} 页经 OCR 识别` : null,
  ].filter(Boolean);
  document.getElementById("document-meta").textContent = meta.join(" · ");
  const warnings = document.getElementById("document-warnings");
  fill(warnings, (doc.warnings || []).map((w) => alertBox(w, "warning")));
}

// ----- full text with the findings highlighted

function renderText(doc, findings) {
  const spans = findings.map((f) => ({ start: f.start, end: f.end, finding: f }));
  fill(textBox, highlight(doc.text || "", spans, (span, part) => h("mark", {
    class: ["finding", isFinding(span.finding) && "is-finding"], id: `text-${span.finding.id}`,
    dataset: { findingId: String(span.finding.id) }, title: "点击查看该候选问题",
    onclick: () => focusFinding(span.finding.id, "card"),
  }, part)));
}

function focusFinding(id, where) {
  const target = document.getElementById(where === "card" ? `finding-${id}` : `text-${id}`);
  if (!target) return;
  if (where === "card" && target.hidden) {
    showAll.checked = true;
    applyFilter();
  }
  target.scrollIntoView({ behavior: "smooth", block: "center" });
  target.classList.remove("flash");
  void target.offsetWidth; // restart the animation
  target.classList.add("flash");
}

// ----- finding cards

function tagChips(tags) {
  const labels = new Set(tags.labels || []);
  return h("div", { class: "chips" }, (tags.checklist || []).map((item) => h("a", {
    class: ["chip", labels.has(item.id) ? "chip-label" : "chip-candidate"],
    href: `/checklist?item=${encodeURIComponent(item.id)}`, title: labels.has(item.id) ? "模型判定的清单条目" : "其他可能的条目",
    dataset: { itemId: item.id },
  }, h("span", { class: "chip-id" }, item.id), item.title, h("span", { class: "chip-score" }, percent(item.score)))));
}

function reviewResult(box, result, reviewer) {
  const label = REVIEW_LABELS[result.action] || result.action;
  const items = result.items && result.items.length ? `：${result.items.join("、")}` : "";
  fill(box, h("div", { class: `review-result review-${result.action}`, role: "status" },
    `${label}${items}`, reviewer ? h("span", { class: "muted" }, `（${reviewer}）`) : null));
}

function reviewControls(finding, card) {
  const result = h("div", { class: "review-box" });
  if (finding.review) {
    card.dataset.review = finding.review.action;
    reviewResult(result, finding.review, finding.review.reviewer);
  }
  const picker = h("div");
  const send = async (action, items = []) => {
    const reviewed = await api(`/api/findings/${finding.id}/review`, { method: "POST", json: { action, items } });
    card.dataset.review = reviewed.action;
    fill(picker);
    const reviewer = document.body.querySelector(".who-name")?.textContent;
    reviewResult(result, reviewed, reviewer);
    finding.review = { action: reviewed.action, items: reviewed.items, reviewer };
    renderCounts();
  };
  const button = (label, action, cls) => h("button", {
    type: "button", class: ["button-small", cls], dataset: { action },
    onclick: async (event) => {
      const self = event.currentTarget;
      self.disabled = true;
      try {
        await send(action);
      } catch (error) {
        fill(result, alertBox(messageOf(error)));
      } finally {
        self.disabled = false;
      }
    },
  }, label);
  const correct = h("button", { type: "button", class: "button-small", dataset: { action: "correct" },
    onclick: () => {
      const current = ((finding.tags && finding.tags.checklist) || [])
        .filter((item) => (finding.tags.labels || []).includes(item.id));
      fill(picker, itemPicker({
        initial: current,
        onSubmit: (ids) => send("correct", ids),
        onCancel: () => fill(picker),
      }));
    } }, "更正");
  return [h("div", { class: "button-row review-buttons" },
    button("确认", "confirm", "button-confirm"), button("驳回", "reject", "button-reject"), correct), picker, result];
}

function findingCard(finding) {
  const tags = finding.tags;
  const head = h("div", { class: "finding-head" },
    h("button", { type: "button", class: "finding-locate", title: "在全文中定位",
      onclick: () => focusFinding(finding.id, "text") }, `#${finding.seq + 1}`),
    finding.speaker ? h("span", { class: "speaker" }, finding.speaker) : null,
    finding.page ? h("span", { class: "muted small" }, pageLabel(finding.page)) : null,
    tags ? h("span", { class: ["badge", tags.is_finding ? "badge-finding" : "badge-quiet"] },
      tags.is_finding ? `疑似问题 ${percent(tags.finding_score)}` : `非问题 ${percent(tags.finding_score)}`)
      : h("span", { class: "badge badge-quiet" }, "未标注"));
  const card = h("li", { class: ["finding-card", tags && tags.is_finding && "is-finding"], id: `finding-${finding.id}`,
    dataset: { findingId: String(finding.id) } },
    head, h("p", { class: "finding-text" }, finding.text));
  if (tags) {
    card.append(tagChips(tags), h("div", { class: "finding-meta small" },
      tags.focus ? h("span", { title: focusLabel(tags.focus) }, FOCUS_SHORT[tags.focus] || focusLabel(tags.focus)) : null,
      tags.discipline && tags.discipline !== "无" ? h("span", null, tags.discipline) : null));
    const evidence = evidenceBlock(finding);
    if (evidence) card.append(evidence);
  }
  if (canWrite()) {
    card.append(...reviewControls(finding, card));
  } else if (finding.review) {
    const box = h("div", { class: "review-box" });
    reviewResult(box, finding.review, finding.review.reviewer);
    card.append(box);
  }
  return card;
}

function applyFilter() {
  for (const card of findingsBox.children) {
    card.hidden = !showAll.checked && !card.classList.contains("is-finding");
  }
}

function renderCounts() {
  fill(countsBox, countsBar(reviewCounts(currentFindings)));
}

function renderFindings(findings) {
  currentFindings = findings;
  renderCounts();
  const flagged = findings.filter(isFinding).length;
  document.getElementById("finding-count").textContent = `疑似问题 ${flagged} 条 / 候选 ${findings.length} 条`;
  if (!findings.length) {
    fill(findingsBox, h("li", null, empty("本文档没有候选问题")));
    return;
  }
  fill(findingsBox, findings.map(findingCard));
  if (!flagged) showAll.checked = true;
  applyFilter();
  showAll.addEventListener("change", applyFilter);
}

function setupKindControl(doc) {
  const select = document.getElementById("kind-select");
  const save = document.getElementById("kind-save");
  const status = document.getElementById("kind-status");
  if (!select || !save) return;
  select.value = doc.kind;
  save.addEventListener("click", async () => {
    save.disabled = true;
    status.textContent = "正在重新抽取结构信息…";
    try {
      const updated = await api(`/api/documents/${documentId}`, { method: "PATCH", json: { kind: select.value } });
      renderHeader(updated);
      document.getElementById("fields-card").hidden = false;
      fill(document.getElementById("fields"));
      renderFields(updated.fields);
      status.textContent = `已更正为${kindLabel(updated.kind)}，结构信息已重新抽取`;
    } catch (error) {
      status.textContent = messageOf(error);
    } finally {
      save.disabled = false;
    }
  });
}

async function init() {
  pageError.replaceChildren(loading("正在加载文档…"));
  let doc;
  try {
    doc = await api(`/api/documents/${documentId}`);
  } catch (error) {
    showError(pageError, error);
    return;
  }
  pageError.replaceChildren();
  pageBody.hidden = false;
  const findings = [...doc.findings].sort((a, b) => a.start - b.start);
  renderHeader(doc);
  renderFields(doc.fields);
  renderText(doc, findings);
  renderFindings(findings);
  setupKindControl(doc);
  const match = /^#finding-(\d+)$/.exec(location.hash);
  if (match) focusFinding(Number(match[1]), "card");
}

init().catch((error) => showError(pageError, error));
