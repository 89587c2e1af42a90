// 回头看: each finding of this round against the problems earlier rounds of the same unit reported —
// matched problem, class (整改不到位/反弹回潮/新问题) and the reason — and the earlier problems never 销号.
import { api } from "../api.js";
import { empty, fill, h, loading, showError } from "../dom.js";
import { FOCUS_SHORT, pageLabel, setTitle } from "../format.js";
import { unitLink } from "../links.js";

const main = document.getElementById("main");
const inspectionId = Number(main.dataset.inspectionId);
const status = document.getElementById("recheck-status");
const summary = document.getElementById("recheck-summary");
const list = document.getElementById("recheck-findings");
const filter = document.getElementById("recheck-class");
const CLASSES = { "整改不到位": "again", "反弹回潮": "back", "新问题": "new" };
const REVIEW_LABELS = { confirmed: "已确认", corrected: "已更正" };

function statusBadge(problem) {
  const key = problem.status || "none";
  return h("span", { class: `badge badge-status-${key}` }, problem.status_label);
}

function earlier(problem) {
  return h("div", { class: "recheck-earlier" },
    h("div", { class: "small" }, h("span", { class: "muted" }, "上轮问题："),
      h("a", { href: `/inspections/${Number(problem.inspection_id)}` }, problem.inspection), " ",
      h("span", { class: "chip-id" }, problem.item_id), ` ${problem.item_title} `, statusBadge(problem),
      problem.task_id ? [" ", h("a", { class: "small", href: `/inspections/${Number(problem.inspection_id)}/rectification#task-${Number(problem.task_id)}` }, "整改任务")] : null),
    h("p", { class: "recheck-wording" }, problem.wording));
}

function findingCard(f, number) {
  return h("li", { class: `recheck-card recheck-${CLASSES[f.class]}`, dataset: { class: f.class, findingId: String(f.finding_id) } },
    h("div", { class: "recheck-head" },
      h("span", { class: "muted" }, `${number}.`),
      h("span", { class: `badge recheck-badge recheck-badge-${CLASSES[f.class]}` }, f.class),
      f.items.map((i) => h("span", { class: "chip-id" }, i)),
      f.review ? h("span", { class: `badge badge-review review-${f.review}` }, REVIEW_LABELS[f.review]) : null,
      f.similarity !== null ? h("span", { class: "muted small" }, `相似度 ${f.similarity.toFixed(3)}`) : null),
    h("p", { class: "recheck-text" }, f.text),
    h("p", { class: "muted small" }, h("a", { href: `/documents/${Number(f.document_id)}` }, f.filename),
      f.page ? ` · ${pageLabel(f.page)}` : ""),
    f.matched ? earlier(f.matched) : null,
    h("p", { class: "recheck-reason small" }, h("strong", null, "判定依据："), f.reason));
}

function render(result) {
  const title = `${result.inspection} 回头看`;
  setTitle(title);
  document.getElementById("recheck-title").textContent = title;
  document.getElementById("crumb-inspection").textContent = result.inspection;
  fill(document.getElementById("recheck-meta"), result.team,
    result.target_unit ? [" · 被巡察单位：", unitLink(result.target_unit)] : " · 未填写被巡察单位",
    result.earlier_rounds.length
      ? [" · 以往轮次：", result.earlier_rounds.map((r, i) => [i ? "、" : "", h("a", { href: `/inspections/${Number(r.id)}` }, r.name)])]
      : " · 此前没有（本人可见范围内的）巡察轮次");
  summary.hidden = false;
  fill(summary, Object.entries(result.counts).map(([label, count]) =>
    h("span", null, h("span", { class: `badge recheck-badge recheck-badge-${CLASSES[label]}` }, label), " ",
      h("strong", { id: `recheck-count-${CLASSES[label]}` }, String(count)), " 条")),
  h("span", null, "未销号的以往问题 ", h("strong", { id: "recheck-count-unclosed" }, String(result.unclosed.length)), " 个"));
  document.getElementById("recheck-findings-card").hidden = false;
  const show = () => {
    const wanted = filter.value;
    const rows = result.findings.filter((f) => !wanted || f.class === wanted);
    fill(list, rows.length ? rows.map((f, i) => findingCard(f, i + 1)) : h("li", null, empty("本轮没有该类问题。")));
  };
  filter.onchange = show;
  show();
  const unclosedCard = document.getElementById("recheck-unclosed-card");
  unclosedCard.hidden = !result.earlier_rounds.length;
  fill(document.getElementById("recheck-unclosed"), result.unclosed.length
    ? h("table", { class: "table" },
      h("thead", null, h("tr", null, ["巡察轮次", "条目", "问题表述", "整改状态"].map((t) => h("th", null, t)))),
      h("tbody", null, result.unclosed.map((p) => h("tr", { class: "unclosed-row" },
        h("td", null, h("a", { href: `/inspections/${Number(p.inspection_id)}/rectification` }, p.inspection)),
        h("td", null, h("span", { class: "chip-id" }, p.item_id), h("div", { class: "muted small" }, `${FOCUS_SHORT[p.focus] || ""} ${p.item_title}`)),
        h("td", null, p.wording), h("td", null, statusBadge(p))))))
    : empty("以往轮次反馈的问题均已销号。"));
}

async function load() {
  fill(status, loading("正在与以往轮次比对…"));
  try {
    render(await api(`/api/inspections/${inspectionId}/recheck`));
    fill(status);
  } catch (error) {
    showError(status, error);
  }
}

load();
