// 整改台账: tasks of a finalised round with warning lights, editing, evidence upload, 提交销号 and 销号 approval.
import { api, uploadFile } from "../api.js";
import { actionButton, alertBox, empty, fill, h, loading, messageOf, showError } from "../dom.js";
import { canWrite, dateTime, focusLabel, setTitle } from "../format.js";
import { personLink, unitLink } from "../links.js";

const main = document.getElementById("main");
const inspectionId = Number(main.dataset.inspectionId);
const box = document.getElementById("ledger");
const status = document.getElementById("ledger-status");
const summary = document.getElementById("ledger-summary");
const finaliseButton = document.getElementById("finalise");

const WARNING_LABELS = { green: "绿灯", yellow: "黄灯", red: "红灯" };
const STATUS_OPTIONS = [["not_started", "未启动"], ["in_progress", "整改中"]];

function flash(message, kind = "success") {
  fill(status, alertBox(message, kind));
}

function daysText(task) {
  if (task.status === "closed") return "已销号";
  if (task.days_left < 0) return `已逾期 ${-task.days_left} 天`;
  return `剩余 ${task.days_left} 天`;
}

function renderHeader(ledger) {
  const title = `${ledger.inspection} 整改台账`;
  setTitle(title);
  document.getElementById("ledger-title").textContent = title;
  if (ledger.inspection) document.getElementById("crumb-inspection").textContent = ledger.inspection;
  const meta = [ledger.team, ledger.target_unit ? ["被巡察单位：", unitLink(ledger.target_unit)] : null,
    ledger.finalised ? `反馈定稿：${dateTime(ledger.finalised_at)}${ledger.finalised_by ? `（${ledger.finalised_by}）` : ""}`
      : "报告尚未反馈定稿", `按 ${ledger.today} 计算预警`].filter(Boolean);
  fill(document.getElementById("ledger-meta"), meta.map((part, i) => [i ? " · " : "", part]));
  if (finaliseButton) finaliseButton.textContent = ledger.finalised ? "重新定稿（补充新问题）" : "反馈定稿，生成整改任务";
  const c = ledger.counts || {};
  summary.hidden = !ledger.tasks.length;
  fill(summary,
    h("span", null, "任务 ", h("strong", null, String(ledger.tasks.length)), " 项"),
    ["red", "yellow", "green"].map((w) => h("span", { class: `badge badge-warning-${w}` }, `${WARNING_LABELS[w]} ${c[w] || 0}`)),
    [["not_started", "未启动"], ["in_progress", "整改中"], ["pending_closure", "待销号"], ["closed", "已销号"]]
      .map(([key, label]) => h("span", null, `${label} `, h("strong", null, String(c[key] || 0)))),
    h("span", { class: "muted small" },
      `预警规则：剩余不超过 ${ledger.thresholds.green} 天绿灯，不超过 ${ledger.thresholds.yellow} 天黄灯，` +
      (ledger.thresholds.red > 0 ? `少于 ${ledger.thresholds.red} 天红灯` : "逾期红灯")));
}

function names(person) {
  // 责任人 is free text ("张某（镇党委书记）、李某"): the names without their titles.
  return String(person || "").replace(/[（(][^）)]*[）)]/g, "").split(/[、，,；;\s/]+/).filter((n) => n.length >= 2);
}

function profileLinks(task) {
  const links = [task.unit ? unitLink(task.unit) : null, ...names(task.person).map((n) => personLink(n))].filter(Boolean);
  return links.length ? [" · 画像：", links.map((link, i) => [i ? "、" : "", link])] : null;
}

function field(label, input, wide = false) {
  return h("label", { class: wide ? "wide" : null }, label, input);
}

function taskCard(task, number) {
  const write = canWrite() && task.status !== "closed";
  const message = h("div", { class: "task-message", "aria-live": "polite" });
  const say = (text, kind = "success") => fill(message, kind === "success"
    ? h("span", { class: "ok-text small", role: "status" }, text) : alertBox(text, kind));
  const replace = (updated) => {
    const card = taskCard(updated, number);
    li.replaceWith(card);
    load(false);
    return card;
  };
  const act = async (path, options, done) => {
    fill(message);
    try {
      const updated = await api(path, options);
      const card = replace(updated.task || updated);
      fill(card.querySelector(".task-message"), h("span", { class: "ok-text small", role: "status" }, done));
    } catch (error) {
      say(messageOf(error), "error");
    }
  };

  const unit = h("input", { type: "text", value: task.unit || "", maxlength: 200, class: "task-unit", readonly: !write });
  const person = h("input", { type: "text", value: task.person || "", maxlength: 100, class: "task-person",
    placeholder: "待填写", readonly: !write });
  const deadline = h("input", { type: "date", value: task.deadline, class: "task-deadline", readonly: !write });
  const measures = h("textarea", { rows: 3, maxlength: 4000, value: task.measures, class: "task-measures", readonly: !write });
  const state = h("select", { class: "task-status", disabled: !write || !["not_started", "in_progress"].includes(task.status) },
    (["not_started", "in_progress"].includes(task.status) ? STATUS_OPTIONS : [[task.status, task.status_label]])
      .map(([value, label]) => h("option", { value, selected: value === task.status }, label)));

  const actions = h("div", { class: "task-actions" });
  if (write) {
    actions.append(actionButton("保存", () => {
      const body = { unit: unit.value, person: person.value, measures: measures.value, deadline: deadline.value };
      if (!state.disabled) body.status = state.value;
      return act(`/api/rectification-tasks/${task.id}`, { method: "PATCH", json: body }, "已保存");
    }, { class: "button-primary button-small save-task" }));
    const files = h("input", { type: "file", multiple: true, class: "evidence-files", "aria-label": "选择佐证材料",
      accept: ".pdf,.docx,.doc,.txt,.md,.csv,.png,.jpg,.jpeg,.tif,.tiff,.bmp" });
    actions.append(h("label", { class: "inline small" }, "选择文件 ", files),
      actionButton("上传佐证材料", async () => {
        if (!files.files.length) {
          say("请先选择佐证材料文件", "warning");
          return;
        }
        fill(message, loading("正在上传并导入佐证材料…"));
        let last = null;
        try {
          for (const file of files.files) last = await uploadFile(`/api/rectification-tasks/${task.id}/evidence`, file, () => {});
        } catch (error) {
          say(messageOf(error), "error");
          if (!last) return;
        }
        const card = replace(last.task);
        fill(card.querySelector(".task-message"), h("span", { class: "ok-text small", role: "status" }, "佐证材料已上传"));
      }, { class: "button-small upload-evidence" }));
    if (task.status !== "pending_closure") {
      actions.append(actionButton("提交销号", () => act(`/api/rectification-tasks/${task.id}/submit`, { method: "POST" },
        "已提交销号，等待审批"), { class: "button-small submit-task", disabled: !task.evidence.length,
        title: task.evidence.length ? null : "销号须先上传佐证材料" }));
    }
  }
  if (task.status === "pending_closure") {
    actions.append(
      actionButton("审批销号", () => act(`/api/rectification-tasks/${task.id}/approve`, { method: "POST" }, "已销号"),
        { class: "button-primary button-small approve-task" }),
      actionButton("退回", () => act(`/api/rectification-tasks/${task.id}/reject`, { method: "POST" }, "已退回，任务回到整改中"),
        { class: "button-small reject-task" }));
  }

  const evidence = task.evidence.length
    ? h("ul", { class: "task-evidence" }, task.evidence.map((e) => h("li", null,
      h("a", { href: `/documents/${Number(e.document_id)}` }, e.filename),
      h("span", { class: "muted small" }, ` ${e.added_by || ""} ${dateTime(e.added_at)}`))))
    : h("p", { class: "muted small" }, "尚无佐证材料");
  const closedNote = task.status === "closed"
    ? h("p", { class: "small ok-text" }, `已销号：${task.approved_by || ""} 审批（${dateTime(task.approved_at)}）`)
    : task.status === "pending_closure"
      ? h("p", { class: "small muted" }, `${task.submitted_by || ""} 于 ${dateTime(task.submitted_at)} 提交销号，须由其他有审批权限的人员审批`)
      : null;

  const li = h("li", { class: "task-card", id: `task-${task.id}`,
    dataset: { taskId: String(task.id), status: task.status, warning: task.warning || "none" } },
  h("div", { class: "task-head" },
    h("span", { class: "muted" }, `${number}.`),
    h("p", { class: "task-problem" }, task.problem),
    task.warning ? h("span", { class: `badge badge-warning-${task.warning} task-warning` }, WARNING_LABELS[task.warning]) : null,
    h("span", { class: `badge badge-status-${task.status} task-state` }, task.status_label)),
  h("p", { class: "muted small" }, `${focusLabel(task.focus)} · ${task.item_id} · 完成时限 ${task.deadline} · `,
    h("span", { class: "task-days" }, daysText(task)),
    profileLinks(task)),
  h("div", { class: "task-form" },
    field("责任单位", unit), field("责任人", person), field("完成时限", deadline), field("整改状态", state),
    field("整改措施", measures, true)),
  h("div", null, h("strong", { class: "small" }, "佐证材料"), evidence),
  closedNote, actions, message);
  return li;
}

async function load(showLoading = true) {
  if (showLoading) fill(box, loading());
  let ledger;
  try {
    ledger = await api(`/api/inspections/${inspectionId}/rectification`);
  } catch (error) {
    showError(box, error);
    if (finaliseButton) finaliseButton.hidden = true;
    return;
  }
  renderHeader(ledger);
  if (!showLoading) return;
  if (!ledger.tasks.length) {
    fill(box, empty(ledger.finalised ? "报告定稿时没有纳入清单的问题。"
      : "报告初稿尚未反馈定稿。定稿后，纳入问题清单的每个问题都会生成一项整改任务。"));
    return;
  }
  fill(box, h("ol", { class: "ledger-list" }, ledger.tasks.map((task, i) => taskCard(task, i + 1))));
}

if (finaliseButton) {
  finaliseButton.addEventListener("click", async () => {
    finaliseButton.disabled = true;
    fill(status);
    try {
      await finalise(false);
    } finally {
      finaliseButton.disabled = false;
    }
  });
}

async function finalise(force) {
  try {
    const ledger = await api(`/api/inspections/${inspectionId}/report/finalise`, { method: "POST", params: { force: force ? 1 : null } });
    flash(`已反馈定稿：整改任务 ${ledger.tasks.length} 项`);
    await load();
  } catch (error) {
    if (error.code === "unfinished_wording" && !force && window.confirm(`${error.detail}\n\n仍要定稿吗？`)) {
      await finalise(true);
      return;
    }
    flash(messageOf(error), "error");
  }
}

load();
