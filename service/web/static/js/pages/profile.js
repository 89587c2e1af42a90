// 画像: one unit or one person across documents and rounds — findings, rounds, rectification status
// (warning lights) and, loaded afterwards, the leads. Everything comes from the team-scoped API.
import { api } from "../api.js";
import { empty, fill, h, loading, showError } from "../dom.js";
import { FOCUS_SHORT, kindLabel, pageLabel, setTitle } from "../format.js";
import { personLink, unitLink } from "../links.js";

const main = document.getElementById("main");
const kind = main.dataset.profile; // "unit" | "person"
const name = main.dataset.name;
const demo = new URLSearchParams(location.search).get("include_demo") === "true";
const params = demo ? { include_demo: "true" } : {};
const base = `/api/profiles/${kind === "unit" ? "units" : "people"}/${encodeURIComponent(name)}`;
const $ = (id) => document.getElementById(id);

const WARNING_LABELS = { green: "绿灯", yellow: "黄灯", red: "红灯" };
const STATUS_ORDER = [["not_started", "未启动"], ["in_progress", "整改中"], ["pending_closure", "待销号"], ["closed", "已销号"]];
const REVIEW_LABELS = { confirmed: "已确认", corrected: "已更正" };

function table(headers, rows, props = {}) {
  return h("table", { class: "table", ...props },
    h("thead", null, h("tr", null, headers.map((t) => h("th", null, t)))),
    h("tbody", null, rows));
}

function roundLink(id, label) {
  return h("a", { href: `/inspections/${Number(id)}` }, label || `轮次 ${id}`);
}

function daysText(task) {
  if (task.status === "closed") return "已销号";
  return task.days_left < 0 ? `已逾期 ${-task.days_left} 天` : `剩余 ${task.days_left} 天`;
}

function summary(profile, cells) {
  fill($("profile-summary"), cells.map(([label, value, id]) => h("span", null, `${label} `,
    h("strong", id ? { id } : null, String(value)))));
}

function renderRounds(rounds) {
  fill($("profile-rounds"), rounds.length ? table(["巡察轮次", "巡察组", "被巡察单位", "材料", "问题", "整改台账", ""],
    rounds.map((r) => h("tr", { dataset: { roundId: String(r.id) } },
      h("td", null, roundLink(r.id, r.name), r.demo ? h("span", { class: "badge badge-quiet" }, "示例") : null),
      h("td", null, r.team),
      h("td", null, r.target_unit ? (kind === "unit" ? r.target_unit : unitLink(r.target_unit, { demo })) : "—"),
      h("td", null, String(r.documents)),
      h("td", null, String(r.findings)),
      h("td", null, r.finalised ? h("a", { href: `/inspections/${Number(r.id)}/rectification` }, "已定稿，查看台账") : h("span", { class: "muted" }, "未定稿")),
      h("td", null, h("a", { href: `/inspections/${Number(r.id)}/recheck` }, "回头看")))))
    : empty("没有相关的巡察轮次。"));
}

function renderTasks(profile) {
  const c = profile.task_counts || {};
  fill($("profile-task-summary"), profile.tasks.length ? [
    h("span", null, "任务 ", h("strong", null, String(profile.tasks.length)), " 项"),
    ["red", "yellow", "green"].map((w) => h("span", { class: `badge badge-warning-${w}` }, `${WARNING_LABELS[w]} ${c[w] || 0}`)),
    STATUS_ORDER.map(([key, label]) => h("span", null, `${label} `, h("strong", null, String(c[key] || 0)))),
  ] : []);
  fill($("profile-tasks"), profile.tasks.length ? table(["巡察轮次", "条目", "问题", "责任单位", "责任人", "完成时限", "状态", "佐证"],
    profile.tasks.map((t) => h("tr", { class: "task-row", dataset: { taskId: String(t.id), warning: t.warning || "none", status: t.status } },
      h("td", null, h("a", { href: `/inspections/${Number(t.inspection_id)}/rectification` }, t.inspection)),
      h("td", null, h("span", { class: "chip-id" }, t.item_id), " ", h("span", { class: "muted small" }, FOCUS_SHORT[t.focus] || "")),
      h("td", { class: "task-problem" }, t.problem),
      h("td", null, t.unit ? (kind === "unit" && t.unit === name ? t.unit : unitLink(t.unit, { demo })) : "—"),
      h("td", null, t.person ? personNames(t.person) : h("span", { class: "muted" }, "待填写")),
      h("td", null, t.deadline, h("div", { class: "muted small task-days" }, daysText(t))),
      h("td", null, h("span", { class: `badge badge-status-${t.status} task-state` }, t.status_label), " ",
        t.warning ? h("span", { class: `badge badge-warning-${t.warning} task-warning` }, WARNING_LABELS[t.warning]) : null),
      h("td", null, t.evidence ? `${t.evidence} 份` : h("span", { class: "muted" }, "无")))))
    : empty(kind === "unit" ? "没有整改任务（相关轮次的报告尚未反馈定稿）。" : "没有担任整改责任人的任务。"));
}

function personNames(text) {
  // 责任人 is free text ("张某（镇党委书记）、李某"): each name links to its profile, titles stay as written.
  return String(text).split(/([、，,；;\s]+)/).map((piece) => {
    const bare = piece.replace(/[（(][^）)]*[）)]/g, "").trim();
    if (bare.length < 2 || /^[、，,；;\s]+$/.test(piece)) return piece;
    if (kind === "person" && bare === name) return h("strong", null, piece);
    return [personLink(bare, { demo }), piece.replace(bare, "")];
  });
}

function findingItem(f) {
  const others = (f.persons || []).filter((p) => !(kind === "person" && p === name));
  return h("li", { class: "profile-finding", dataset: { findingId: String(f.finding_id), item: f.item_id } },
    h("div", { class: "profile-finding-head" },
      h("span", { class: "chip-id" }, f.item_id), " ", h("strong", null, f.item_title), " ",
      h("span", { class: "badge badge-quiet" }, FOCUS_SHORT[f.focus] || f.focus_label), " ",
      f.review ? h("span", { class: `badge badge-review review-${f.review}` }, REVIEW_LABELS[f.review]) : null,
      kind === "person" && f.relation !== "本人" ? h("span", { class: "badge badge-finding" }, `亲属/关系人：${f.relation}`) : null),
    h("p", { class: "profile-finding-text" }, f.text),
    h("p", { class: "muted small" },
      roundLink(f.inspection_id, f.inspection), " · ",
      h("a", { href: `/documents/${Number(f.document_id)}` }, f.filename), ` · ${kindLabel(f.kind)}`,
      f.page ? ` · ${pageLabel(f.page)}` : "", ` · ${f.date || (f.year ? `${f.year}年` : "日期不详")}`,
      kind === "person" && f.target_unit ? [" · ", unitLink(f.target_unit, { demo })] : null,
      others.length ? [" · 涉及：", others.map((p, i) => [i ? "、" : "", personLink(p, { demo })])] : null));
}

function findingList(findings, none) {
  return findings.length ? h("ol", { class: "profile-findings" }, findings.map(findingItem)) : empty(none);
}

async function renderLeads() {
  const box = $("profile-leads");
  fill(box, loading("正在生成问题线索（首次可能需要一两分钟）…"));
  let leads;
  try {
    leads = await api(`${base}/leads`, { params });
  } catch (error) {
    showError(box, error);
    return;
  }
  fill(box, leads.length ? h("ol", { class: "profile-leads" }, leads.map((l) => h("li", { class: "profile-lead" },
    h("div", null, h("span", { class: "badge badge-disposal" }, l.grade), " ", h("span", { class: "chip-id" }, l.item_id), " ",
      h("strong", null, l.item_title), " ", h("span", { class: "muted small" }, `建议：${l.disposal}`)),
    h("p", null, l.wording),
    h("p", { class: "muted small" }, roundLink(l.inspection_id, l.inspection), ` · 材料 ${l.sources.length} 份`,
      l.persons.length ? [" · 涉及：", l.persons.map((p, i) => [i ? "、" : "", kind === "person" && p === name ? p : personLink(p, { demo })])] : null))))
    : empty("没有问题线索。"));
}

function renderUnit(p) {
  $("profile-meta").textContent = `${p.unit_type} · 按 ${p.today} 计算整改预警`;
  summary(p, [["巡察轮次", p.totals.rounds], ["发现问题", p.totals.findings, "profile-total-findings"],
    ["整改任务", p.totals.tasks], ["未销号", p.totals.open_tasks], ["其他轮次提及", p.totals.mentions]]);
  renderRounds(p.rounds);
  renderTasks(p);
  $("profile-repeated-card").hidden = !p.repeated_items.length;
  fill($("profile-repeated"), p.repeated_items.map((r) => h("span", { class: "chip" },
    h("span", { class: "chip-id" }, r.item_id), ` ${r.title}（${r.rounds} 轮）`)));
  const own = p.findings.filter((f) => f.relation === "本单位巡察发现");
  const mentions = p.findings.filter((f) => f.relation !== "本单位巡察发现");
  fill($("profile-findings"), findingList(own, "各轮次还没有标注为问题或审核确认的问题。"));
  $("profile-mentions-card").hidden = !mentions.length;
  fill($("profile-mentions"), findingList(mentions, ""),
    p.mentions_limited ? h("p", { class: "muted small" }, "只列出前 100 条。") : null);
}

function renderPerson(p) {
  const meta = [p.positions.join("；"), p.units.length ? "涉及单位：" : ""].filter(Boolean);
  fill($("profile-meta"), meta.join(" · "), p.units.map((u, i) => [i ? "、" : "", unitLink(u, { demo })]));
  summary(p, p.roles.map((r) => [r.role, r.count]).concat([["巡察轮次", p.totals.rounds]]));
  fill($("profile-documents"), p.documents.length ? table(["身份", "材料", "类型", "巡察轮次", "单位及职务", "日期"],
    p.documents.map((d) => h("tr", null, h("td", null, h("span", { class: "badge badge-finding" }, d.role)),
      h("td", null, h("a", { href: `/documents/${Number(d.document_id)}` }, d.filename)),
      h("td", null, kindLabel(d.kind)), h("td", null, roundLink(d.inspection_id, d.inspection)),
      h("td", null, [d.unit, d.position].filter(Boolean).join("") || "—"),
      h("td", null, d.date || (d.year ? `${d.year}年` : "—")))))
    : empty("没有以被反映人或谈话对象身份出现的材料。"));
  fill($("profile-findings"), findingList(p.findings, "没有涉及此人的问题。"));
  renderTasks(p);
  renderRounds(p.rounds);
}

async function load() {
  setTitle(`${name} · ${kind === "unit" ? "单位画像" : "人员画像"}`);
  fill($("profile-status"), loading());
  let profile;
  try {
    profile = await api(base, { params });
  } catch (error) {
    showError($("profile-status"), error);
    return;
  }
  fill($("profile-status"));
  $("profile-body").hidden = false;
  if (kind === "unit") renderUnit(profile);
  else renderPerson(profile);
  renderLeads();
}

load();
