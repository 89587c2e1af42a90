// The round's review queue: findings filtered by review status and score, reviewed one by one or
// in bulk (confirm / reject). The counts at the top follow every review without a reload; rejected
// cards stay in place, greyed.
import { api } from "../api.js";
import { alertBox, empty, fill, h, loading, messageOf, showError } from "../dom.js";
import { countsBar, evidenceBlock } from "../evidence.js";
import { REVIEW_LABELS, canWrite, kindLabel, pageLabel, percent, setTitle } from "../format.js";

const main = document.getElementById("main");
const inspectionId = Number(main.dataset.inspectionId);
const list = document.getElementById("review-list");
const countsBox = document.getElementById("review-counts");
const pageError = document.getElementById("page-error");
const pageBody = document.getElementById("page-body");
const form = document.getElementById("review-filters");
const selectAll = document.getElementById("select-all");
const selectedCount = document.getElementById("selected-count");
const bulkConfirm = document.getElementById("bulk-confirm");
const bulkReject = document.getElementById("bulk-reject");
const bulkStatus = document.getElementById("bulk-status");
const PAGE_SIZE = 200;
const cards = new Map(); // finding id -> {finding, card}

async function refreshCounts() {
  const counts = await api(`/api/inspections/${inspectionId}/review-counts`);
  fill(countsBox, countsBar(counts), h("span", { class: "count" }, "疑似问题 ", h("strong", null, String(counts.flagged)),
    ` / 候选 ${counts.total} 条`));
}

function filters() {
  const min = Number(document.getElementById("filter-min").value);
  const max = Number(document.getElementById("filter-max").value);
  return {
    status: document.getElementById("filter-status").value || undefined,
    min_score: Number.isFinite(min) && min > 0 ? Math.min(min, 100) / 100 : undefined,
    max_score: Number.isFinite(max) && max < 100 ? Math.max(max, 0) / 100 : undefined,
    flagged: document.getElementById("filter-flagged").checked ? "true" : undefined,
    limit: PAGE_SIZE,
  };
}

function selectedIds() {
  return [...cards.values()].filter((entry) => entry.box && entry.box.checked).map((entry) => entry.finding.id);
}

function updateSelection() {
  if (!selectedCount) return;
  const ids = selectedIds();
  selectedCount.textContent = `已选 ${ids.length} 条`;
  bulkConfirm.disabled = bulkReject.disabled = !ids.length;
  selectAll.checked = ids.length > 0 && ids.length === cards.size;
}

function markReviewed(entry, action, items) {
  const { finding, card, state } = entry;
  finding.review = { action, items };
  card.dataset.review = action;
  const label = REVIEW_LABELS[action] || action;
  fill(state, h("span", { class: `review-result review-${action}` },
    label + (items && items.length ? `：${items.join("、")}` : "")));
}

async function review(ids, action) {
  const result = await api("/api/findings/review", { method: "POST", json: { finding_ids: ids, action } });
  for (const done of result.reviewed) {
    const entry = cards.get(done.finding_id);
    if (entry) markReviewed(entry, done.action, done.items);
  }
  await refreshCounts();
  return result;
}

function card(finding) {
  const tags = finding.tags;
  const top = tags && tags.checklist && tags.checklist[0];
  const box = canWrite() ? h("input", { type: "checkbox", class: "select-finding", "aria-label": "选择该候选问题",
    dataset: { findingId: String(finding.id) }, onchange: updateSelection }) : null;
  const state = h("div", { class: "review-state" });
  const item = h("li", { class: ["review-card", tags && tags.is_finding && "is-finding"], id: `finding-${finding.id}`,
    dataset: { findingId: String(finding.id), review: finding.review ? finding.review.action : "" } },
  h("div", { class: "finding-head" }, box,
    h("a", { href: `/documents/${finding.document_id}#finding-${finding.id}`, class: "small" },
      `${finding.filename}`),
    h("span", { class: "muted small" }, kindLabel(finding.kind)),
    finding.page ? h("span", { class: "muted small" }, pageLabel(finding.page)) : null,
    finding.speaker ? h("span", { class: "speaker small" }, finding.speaker) : null,
    tags ? h("span", { class: ["badge", tags.is_finding ? "badge-finding" : "badge-quiet"] },
      `${tags.is_finding ? "疑似问题" : "非问题"} ${percent(tags.finding_score)}`)
      : h("span", { class: "badge badge-quiet" }, "未标注")),
  h("p", { class: "finding-text" }, finding.text),
  top ? h("div", { class: "chips" }, h("span", { class: "chip chip-label" }, h("span", { class: "chip-id" }, top.id),
    top.title)) : null,
  tags ? evidenceBlock(finding) : null,
  state);
  const entry = { finding, card: item, state, box };
  if (finding.review) markReviewed(entry, finding.review.action, finding.review.items);
  if (canWrite()) {
    const one = (label, action, cls) => h("button", { type: "button", class: ["button-small", cls],
      dataset: { action }, onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        try {
          const result = await review([finding.id], action);
          if (result.skipped.length) fill(state, alertBox(result.skipped[0].detail, "warning"));
        } catch (error) {
          fill(state, alertBox(messageOf(error)));
        } finally {
          button.disabled = false;
        }
      } }, label);
    item.append(h("div", { class: "button-row" }, one("确认", "confirm", "button-confirm"),
      one("驳回", "reject", "button-reject")));
  }
  cards.set(finding.id, entry);
  return item;
}

async function load() {
  fill(list, loading("正在加载候选问题…"));
  cards.clear();
  const result = await api(`/api/inspections/${inspectionId}/findings`, { params: filters() });
  fill(countsBox, countsBar(result.counts), h("span", { class: "count" }, "疑似问题 ",
    h("strong", null, String(result.counts.flagged)), ` / 候选 ${result.counts.total} 条`));
  document.getElementById("match-count").textContent = result.matched > result.findings.length
    ? `符合条件 ${result.matched} 条，显示前 ${result.findings.length} 条` : `符合条件 ${result.matched} 条`;
  if (!result.findings.length) {
    fill(list, h("li", null, empty("没有符合条件的候选问题")));
  } else {
    fill(list, result.findings.map(card));
  }
  updateSelection();
}

function setupBulk() {
  if (!selectAll) return;
  selectAll.addEventListener("change", () => {
    for (const entry of cards.values()) if (entry.box) entry.box.checked = selectAll.checked;
    updateSelection();
  });
  const bulk = (action) => async () => {
    const ids = selectedIds();
    if (!ids.length) return;
    bulkConfirm.disabled = bulkReject.disabled = true;
    bulkStatus.textContent = "正在提交…";
    try {
      const result = await review(ids, action);
      const skipped = result.skipped.length ? `，${result.skipped.length} 条未能${action === "confirm" ? "确认" : "驳回"}`
        + `（${result.skipped[0].detail}）` : "";
      bulkStatus.textContent = `已${action === "confirm" ? "确认" : "驳回"} ${result.reviewed.length} 条${skipped}`;
      for (const entry of cards.values()) if (entry.box) entry.box.checked = false;
    } catch (error) {
      bulkStatus.textContent = messageOf(error);
    } finally {
      updateSelection();
    }
  };
  bulkConfirm.addEventListener("click", bulk("confirm"));
  bulkReject.addEventListener("click", bulk("reject"));
}

async function init() {
  let inspection;
  try {
    inspection = await api(`/api/inspections/${inspectionId}`);
  } catch (error) {
    pageBody.hidden = true;
    showError(pageError, error);
    return;
  }
  setTitle(`审核候选问题 · ${inspection.name}`);
  document.getElementById("crumb-inspection").textContent = inspection.name;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch((error) => showError(list, error));
  });
  setupBulk();
  await load();
}

init().catch((error) => showError(pageError, error));
