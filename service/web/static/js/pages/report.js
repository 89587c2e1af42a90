import { api } from "../api.js";
import { alertBox, empty, fill, h, loading, messageOf, showError } from "../dom.js";
import { canWrite, dateTime, kindLabel, pageLabel, setTitle } from "../format.js";

const main = document.getElementById("main");
const inspectionId = Number(main.dataset.inspectionId);
const box = document.getElementById("report");
const status = document.getElementById("report-status");
const regenerate = document.getElementById("regenerate");

const SOURCE_LABELS = { generated: "系统生成", finding: "其他材料原文", checklist: "负面清单表述", case: "往届案例表述" };
const UNFINISHED = /【待补充：[^】]*】|\{[^{}]{1,10}\}/g;
const filterBox = document.getElementById("report-filters");
let current = null;

function unfinishedOf(text) {
  return [...new Set((text || "").match(UNFINISHED) || [])];
}
const REVIEW_LABELS = { confirmed: "已确认", corrected: "已更正" };

function flash(message, kind = "success") {
  fill(status, alertBox(message, kind));
}

function renderHeader(report) {
  const title = `${report.inspection} 问题清单（初稿）`;
  setTitle(title);
  document.getElementById("report-title").textContent = title;
  const crumb = document.getElementById("crumb-inspection");
  if (report.inspection) crumb.textContent = report.inspection;
  const meta = [report.team, report.target_unit ? `被巡察单位：${report.target_unit}` : null,
    `问题 ${report.problem_count} 条`,
    report.updated_at ? `最后修改：${dateTime(report.updated_at)}${report.updated_by ? `（${report.updated_by}）` : ""}` : null]
    .filter(Boolean);
  document.getElementById("report-meta").textContent = meta.join(" · ");
}

function evidenceList(problem) {
  if (!problem.evidence || !problem.evidence.length) return null;
  return h("details", { class: "evidence" },
    h("summary", null, `依据材料（${problem.evidence.length}）`),
    h("ul", { class: "sources" }, problem.evidence.map((e) => h("li", null,
      h("a", { href: `/documents/${Number(e.document_id)}#finding-${Number(e.finding_id)}` }, e.filename),
      h("span", { class: "muted small" }, [" ", kindLabel(e.kind), pageLabel(e.page)].filter(Boolean).join(" · ")),
      h("span", { class: ["badge", "badge-review", e.review && `review-${e.review}`] },
        REVIEW_LABELS[e.review] || "未审核"),
      h("blockquote", { class: "quote" }, e.quote)))));
}

function editedNote(problem) {
  if (!problem.edited) return "";
  const who = problem.edited_by ? `${problem.edited_by} ` : "";
  return `已人工修改（${who}${dateTime(problem.edited_at)}）`;
}

function problemCard(problem) {
  const write = canWrite();
  const note = h("span", { class: "muted small edited-note" }, editedNote(problem));
  const message = h("div", { class: "problem-message", "aria-live": "polite" });
  const textarea = h("textarea", { class: "wording", rows: 3, maxlength: 2000, value: problem.wording,
    readonly: write ? null : true, id: `wording-${problem.id}`, "aria-label": "问题表述" });
  const save = h("button", { type: "button", class: "button-primary button-small save", disabled: true }, "保存");
  const card = h("li", { class: ["problem", !problem.included && "excluded"], id: `problem-${problem.id}`,
    dataset: { problemId: String(problem.id) } });
  card.problem = problem;
  // Unticked problems are compact (one line) until opened.
  const summary = h("p", { class: "problem-summary", title: "展开查看和修改" }, problem.wording);
  const toggle = h("button", { type: "button", class: "button-small toggle-card" }, "展开");
  toggle.addEventListener("click", () => {
    card.classList.toggle("expanded");
    toggle.textContent = card.classList.contains("expanded") ? "收起" : "展开";
  });

  const patch = async (body, done) => {
    fill(message);
    try {
      const updated = await api(`/api/report-problems/${problem.id}`, { method: "PATCH", json: body });
      Object.assign(problem, updated || body);
      problem.unfinished = unfinishedOf(problem.wording);
      note.textContent = editedNote(problem);
      card.classList.toggle("excluded", !problem.included);
      fill(summary, problem.wording);
      applyFilters();
      fill(message, h("span", { class: "ok-text small", role: "status" }, done));
      return true;
    } catch (error) {
      fill(message, alertBox(messageOf(error)));
      return false;
    }
  };

  const slots = h("div", { class: "slot-hint small" });
  const showSlots = () => {
    const open = unfinishedOf(textarea.value);
    fill(slots, open.length ? `表述中还有待补充的内容：${open.join("、")}（请依据材料补充或删去）` : null);
  };
  showSlots();
  textarea.addEventListener("input", () => {
    save.disabled = textarea.value.trim() === (problem.wording || "").trim() || !textarea.value.trim();
    fill(message);
    showSlots();
  });
  save.addEventListener("click", async () => {
    const wording = textarea.value.trim();
    if (!wording) return;
    save.disabled = true;
    if (!(await patch({ wording }, "表述已保存"))) save.disabled = false;
  });

  const include = h("input", { type: "checkbox", checked: problem.included, disabled: !write, class: "include" });
  include.addEventListener("change", async () => {
    include.disabled = true;
    const ok = await patch({ included: include.checked }, include.checked ? "已写入报告" : "已从报告中移除");
    if (!ok) include.checked = !include.checked;
    include.disabled = false;
  });

  const use = (text) => {
    textarea.value = text;
    textarea.dispatchEvent(new Event("input"));
    textarea.focus();
  };
  const choices = [];
  if (problem.generated_wording && problem.generated_wording !== problem.wording) {
    choices.push({ source: "generated", text: problem.generated_wording });
  }
  for (const alt of problem.alternatives || []) {
    if (alt.text && !choices.some((c) => c.text === alt.text)) choices.push(alt);
  }
  const alternatives = write && choices.length ? h("details", { class: "alternatives" },
    h("summary", null, `其他表述（${choices.length}）`),
    h("ul", null, choices.map((alt) => h("li", { title: alt.case_id ? `往届案例 ${alt.case_id}` : null },
      h("span", { class: "badge badge-quiet" }, SOURCE_LABELS[alt.source] || alt.source || "表述"),
      h("span", { class: "alt-text" }, alt.text),
      h("button", { type: "button", class: "button-small use-alternative", onclick: () => use(alt.text) }, "使用此表述")))))
    : null;

  card.append(
    h("div", { class: "problem-head" },
      h("label", { class: "inline small" }, include, " 写入报告"), note, toggle),
    summary, textarea, slots,
    write ? h("div", { class: "button-row" }, save, message) : message,
    alternatives, evidenceList(problem));
  return card;
}

const REVIEW_FILTERS = { reviewed: "有已审核的材料", unreviewed: "材料均未审核" };

function option(value, label, selected) {
  return h("option", { value, selected: value === selected }, label);
}

function renderFilters(report) {
  if (!filterBox) return;
  const values = Object.fromEntries([...filterBox.querySelectorAll("select")].map((s) => [s.name, s.value]));
  const items = (report.groups || []).flatMap((g) => g.items.map((i) => [i.item_id, `${i.item_id} ${i.item_title}`]));
  const select = (name, label, choices) => h("label", { class: "inline small" }, label, " ",
    h("select", { name, class: `filter-${name}`, onchange: applyFilters },
      option("", "全部", values[name] || ""), choices.map(([v, l]) => option(v, l, values[name] || ""))));
  fill(filterBox,
    select("focus", "三个聚焦", (report.groups || []).map((g) => [String(g.focus), g.focus_title])),
    select("item", "清单条目", items),
    select("review", "审核状态", Object.entries(REVIEW_FILTERS)),
    select("included", "是否写入", [["yes", "已勾选写入"], ["no", "未勾选"]]),
    h("span", { class: "muted small", id: "filter-count", "aria-live": "polite" }));
}

function applyFilters() {
  if (!filterBox) return;
  const want = Object.fromEntries([...filterBox.querySelectorAll("select")].map((s) => [s.name, s.value]));
  let shown = 0;
  let total = 0;
  for (const group of box.querySelectorAll(".report-group")) {
    let groupShown = 0;
    for (const item of group.querySelectorAll(".report-item")) {
      let itemShown = 0;
      for (const card of item.querySelectorAll(".problem")) {
        const p = card.problem;
        const reviewed = (p.evidence || []).some((e) => e.review);
        const visible = (!want.focus || group.dataset.focus === want.focus)
          && (!want.item || item.dataset.itemId === want.item)
          && (!want.review || (want.review === "reviewed") === reviewed)
          && (!want.included || (want.included === "yes") === Boolean(p.included));
        card.hidden = !visible;
        total += 1;
        itemShown += visible;
      }
      item.hidden = !itemShown;
      groupShown += itemShown;
    }
    group.hidden = !groupShown;
    shown += groupShown;
  }
  const count = document.getElementById("filter-count");
  if (count) count.textContent = `显示 ${shown} / ${total} 个问题`;
}

function render(report) {
  current = report;
  renderHeader(report);
  renderFilters(report);
  const groups = (report.groups || []).filter((g) => g.items && g.items.length);
  if (!groups.length) {
    fill(box, h("div", { class: "card" }, empty(
      "还没有可写入报告的问题。请先上传材料并审核候选问题，然后点击“重新生成”。")));
    return;
  }
  fill(box, groups.map((group) => h("section", { class: "card report-group", dataset: { focus: String(group.focus) } },
    h("h2", null, group.focus_title),
    group.items.map((item) => h("div", { class: "report-item", dataset: { itemId: item.item_id } },
      h("h3", null, h("span", { class: "chip-id" }, item.item_id), item.item_title,
        item.discipline && item.discipline !== "无" ? h("span", { class: "muted small" }, ` · ${item.discipline}`) : null),
      h("ol", { class: "problems" }, item.problems.map(problemCard)))))));
  applyFilters();
}

function unfinishedProblems() {
  const out = [];
  (current?.groups || []).forEach((group, g) => {
    let n = 0;
    for (const item of group.items) {
      for (const p of item.problems) {
        if (!p.included) continue;
        n += 1;
        const open = unfinishedOf(p.wording);
        if (open.length) out.push(`${item.item_id}（第 ${g + 1} 部分第 ${n} 个问题）：${open.join("、")}`);
      }
    }
  });
  return out;
}

for (const link of document.querySelectorAll("#export-docx, #export-xlsx")) {
  link.addEventListener("click", (event) => {
    const open = unfinishedProblems();
    if (!open.length) return;
    event.preventDefault();
    const shown = open.slice(0, 12).join("\n") + (open.length > 12 ? `\n……共 ${open.length} 个` : "");
    if (window.confirm(`以下写入报告的问题表述仍有待补充的内容：\n${shown}\n\n仍要导出吗？`)) {
      window.location.href = `${link.getAttribute("href")}?force=1`;
    }
  });
}

async function load() {
  fill(box, loading("正在加载报告初稿…"));
  try {
    render(await api(`/api/inspections/${inspectionId}/report`));
  } catch (error) {
    showError(box, error);
  }
}

if (regenerate) {
  regenerate.addEventListener("click", async () => {
    regenerate.disabled = true;
    flash("正在根据最新材料和审核结果重新生成，请稍候…", "info");
    try {
      const report = await api(`/api/inspections/${inspectionId}/report`, { method: "POST" });
      if (report && report.groups) render(report);
      else await load();
      flash("报告初稿已重新生成");
    } catch (error) {
      flash(messageOf(error), "error");
    } finally {
      regenerate.disabled = false;
    }
  });
}

load();
