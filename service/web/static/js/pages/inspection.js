import { api, followJob, uploadFile } from "../api.js";
import { alertBox, empty, fill, h, loading, messageOf, showError } from "../dom.js";
import { FILE_STATUS, canWrite, dateTime, fileSize, kindLabel, setTitle } from "../format.js";
import { unitLink } from "../links.js";

const FILE_ENDED = ["added", "duplicate", "error", "cancelled"];

const main = document.getElementById("main");
const inspectionId = Number(main.dataset.inspectionId);
const documents = document.getElementById("documents");
const pageBody = document.getElementById("page-body");
const pageError = document.getElementById("page-error");

function notFound(error) {
  pageBody.hidden = true;
  showError(pageError, error);
}

async function loadInspection() {
  const inspection = await api(`/api/inspections/${inspectionId}`);
  document.getElementById("inspection-title").textContent = inspection.name;
  document.getElementById("crumb").textContent = inspection.name;
  const meta = [inspection.demo ? "示例材料（检索默认不包含）" : null, inspection.team,
    inspection.target_unit ? ["被巡察单位：", unitLink(inspection.target_unit, { demo: inspection.demo, id: "unit-profile-link" })] : null,
    `创建于 ${dateTime(inspection.created_at)}`].filter(Boolean);
  fill(document.getElementById("inspection-meta"), meta.map((part, i) => [i ? " · " : "", part]));
  setTitle(inspection.name);
  return inspection;
}

function deleteControl(doc) {
  const cell = h("td", { class: "nowrap" });
  const start = h("button", { type: "button", class: "button-small button-danger-quiet" }, "删除");
  const reset = () => fill(cell, h("a", { href: `/documents/${doc.id}/leads`, class: "button-small button" }, "线索"),
    " ", start);
  start.addEventListener("click", () => {
    const confirm = h("button", { type: "button", class: "button-small button-danger" }, "确认删除");
    const cancel = h("button", { type: "button", class: "button-small" }, "取消");
    confirm.addEventListener("click", async () => {
      confirm.disabled = cancel.disabled = true;
      try {
        await api(`/api/documents/${doc.id}`, { method: "DELETE" });
        await loadDocuments();
      } catch (error) {
        fill(cell, alertBox(messageOf(error)));
      }
    });
    cancel.addEventListener("click", reset);
    fill(cell, h("span", { class: "small" }, "同时删除其候选问题？"), " ", confirm, " ", cancel);
  });
  reset();
  return cell;
}

async function loadDocuments() {
  const list = await api("/api/documents", { params: { inspection_id: inspectionId } });
  document.getElementById("document-count").textContent = list.length ? `共 ${list.length} 份` : "";
  if (!list.length) {
    fill(documents, empty(canWrite() ? "还没有材料，请在上方上传。" : "还没有材料。"));
    return;
  }
  const write = canWrite();
  const rows = list.map((doc) => h("tr", { dataset: { documentId: String(doc.id) } },
    h("td", null, h("a", { href: `/documents/${doc.id}`, class: "strong" }, doc.filename)),
    h("td", null, kindLabel(doc.kind)),
    h("td", { class: "num", dataset: { year: String(doc.year || "") } }, doc.year ? String(doc.year) : "—"),
    h("td", { class: "num" }, String(doc.pages)),
    h("td", { class: "num" }, String(doc.finding_count)),
    h("td", { class: "num flagged-count" }, doc.flagged_count == null ? "—" : String(doc.flagged_count)),
    h("td", { class: "nowrap" }, dateTime(doc.created_at)),
    write ? deleteControl(doc)
      : h("td", null, h("a", { href: `/documents/${doc.id}/leads`, class: "button-small button" }, "线索"))));
  fill(documents, h("table", { class: "table" },
    h("thead", null, h("tr", null, h("th", null, "文件名"), h("th", null, "类型"),
      h("th", { class: "num", title: "文档自身日期的年份（没有日期时为导入年份）" }, "年份"), h("th", { class: "num" }, "页数"),
      h("th", { class: "num" }, "候选问题"), h("th", { class: "num", title: "标注模型标为疑似问题的候选问题数" }, "疑似问题"),
      h("th", null, "导入时间"), h("th", null, "操作"))),
    h("tbody", null, rows)));
}

// ----- upload: one request per file (so one bad file does not stop the others), then its job.
// Each file is scheduled on its own (small files first, teams take turns): a row shows 排队中 /
// 处理中 / 已导入 / 失败 / 已取消, each in its own colour, and can be cancelled while it waits or runs.

function uploadRow(file) {
  const progress = h("progress", { max: "100", value: 0 });
  const status = h("span", { class: "upload-status" }, FILE_STATUS.pending);
  const cancel = h("button", { type: "button", class: "button-small upload-cancel", hidden: true }, "取消");
  const detail = h("div", { class: "upload-detail small" });
  const row = h("li", { class: "upload-item", dataset: { status: "pending" } },
    h("div", { class: "upload-name" }, h("span", { class: "strong" }, file.name),
      h("span", { class: "muted small" }, fileSize(file.size))),
    progress, h("div", { class: "upload-state" }, status, cancel), detail);
  const set = (state, text, fraction) => {
    row.dataset.status = state;
    status.textContent = text || FILE_STATUS[state] || state;
    if (fraction !== undefined) progress.value = Math.round(fraction * 100);
    cancel.hidden = !(state === "queued" || state === "running") || row.dataset.cancelled === "1";
  };
  return { row, set, detail, cancel };
}

function allowCancel(entry, job) {
  entry.cancel.onclick = async () => {
    entry.cancel.disabled = true;
    entry.row.dataset.cancelled = "1";
    try {
      const answer = await api(`/api/jobs/${encodeURIComponent(job.id)}/cancel`, { method: "POST" });
      const file = answer.files && answer.files[0];
      entry.set(file && file.status === "cancelled" ? "cancelled" : "cancelling");
    } catch (error) {
      entry.row.dataset.cancelled = "";
      entry.cancel.disabled = false;
      fill(entry.detail, h("div", { class: "error-text" }, messageOf(error)));
    }
  };
}

function showFileResult(entry, result) {
  const { set, detail } = entry;
  if (result.status === "added") {
    const flagged = typeof result.flagged === "number" ? `，其中疑似问题 ${result.flagged} 条` : "";
    set("added", `已导入 · ${kindLabel(result.kind)} · ${result.findings} 条候选问题${flagged}`, 1);
    fill(detail, result.document_id ? h("a", { href: `/documents/${result.document_id}` }, "查看文档") : null,
      (result.warnings || []).map((w) => h("div", { class: "warning" }, w)));
  } else if (result.status === "duplicate") {
    set("duplicate", FILE_STATUS.duplicate, 1);
    fill(detail, result.message ? h("div", null, result.message) : null,
      result.document_id ? h("a", { href: `/documents/${result.document_id}` }, "查看已导入的文档") : null);
  } else if (result.status === "error") {
    set("error", "失败", 1);
    fill(detail, h("div", { class: "error-text" }, result.message || "导入失败"));
  } else if (result.status === "cancelled") {
    set("cancelled", FILE_STATUS.cancelled, 1);
    fill(detail, h("div", { class: "muted" }, result.message || "已取消，未导入"));
  } else {
    set(result.status, FILE_STATUS[result.status], 1);
  }
}

async function upload(entry, file, kind) {
  entry.set("uploading", `${FILE_STATUS.uploading} 0%`, 0);
  const path = `/api/inspections/${inspectionId}/documents` + (kind ? `?kind=${encodeURIComponent(kind)}` : "");
  const job = await uploadFile(path, file, (fraction) => {
    entry.set("uploading", `${FILE_STATUS.uploading} ${Math.round(fraction * 100)}%`, fraction);
  });
  entry.set("queued", FILE_STATUS.queued, 1);
  return job;
}

async function follow(entry, job, onFileDone) {
  allowCancel(entry, job);
  entry.set("queued", FILE_STATUS.queued, 1);
  const finalJob = await followJob(job.id, (update) => {
    const file = update.files && update.files[0];
    if (file && (file.status === "queued" || file.status === "running")
        && entry.row.dataset.status !== "cancelling") entry.set(file.status);
  });
  const result = finalJob.files && finalJob.files[0];
  if (result && FILE_ENDED.includes(result.status)) {
    showFileResult(entry, result);
    if (result.status === "added") onFileDone();
    return result.status;
  }
  throw { detail: finalJob.error || "导入任务失败，请重新上传" };
}

function failed(entry, error) {
  entry.set("error", "失败", 1);
  fill(entry.detail, h("div", { class: "error-text" }, messageOf(error)));
  return "error";
}

function setupUpload() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("upload-files");
  const zone = document.getElementById("dropzone");
  const selected = document.getElementById("upload-selected");
  const start = document.getElementById("upload-start");
  const list = document.getElementById("upload-list");
  let files = [];

  const choose = (chosen) => {
    files = Array.from(chosen || []);
    selected.textContent = files.length ? `已选择 ${files.length} 个文件：${files.map((f) => f.name).join("、")}`
      : "未选择文件";
    start.disabled = !files.length;
  };
  input.addEventListener("change", () => choose(input.files));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    choose(event.dataTransfer.files);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!files.length) return;
    const batch = files;
    const kind = document.getElementById("upload-kind").value;
    choose([]);
    input.value = "";
    const entries = batch.map((file) => uploadRow(file));
    list.prepend(...entries.map((e) => e.row));
    const imports = [];
    // Each document appears in the list as soon as its file is imported, not after the whole batch.
    let reloading = null;
    const refresh = () => {
      reloading = reloading || loadDocuments().catch((error) => showError(documents, error))
        .finally(() => { reloading = null; });
    };
    for (const [index, file] of batch.entries()) {
      // Uploads go one at a time; the imports they start run in the background meanwhile.
      const entry = entries[index];
      try {
        const job = await upload(entry, file, kind);
        imports.push(follow(entry, job, refresh).catch((error) => failed(entry, error)));
      } catch (error) {
        imports.push(Promise.resolve(failed(entry, error)));
      }
    }
    const outcomes = await Promise.all(imports);
    const count = (status) => outcomes.filter((o) => o === status).length;
    list.prepend(h("li", { class: "upload-summary", role: "status" },
      `本次上传 ${batch.length} 个文件：已导入 ${count("added")} 个，重复 ${count("duplicate")} 个，失败 ${count("error")} 个`
      + (count("cancelled") ? `，已取消 ${count("cancelled")} 个` : "")));
    loadDocuments().catch((error) => showError(documents, error));
  });
}

function setupDeleteRound(inspection) {
  const box = document.getElementById("delete-box");
  if (!box) return;
  const start = () => {
    const begin = h("button", { type: "button", class: "button-small button-danger-quiet", id: "delete-round" },
      "删除巡察轮次");
    begin.addEventListener("click", () => {
      const confirm = h("button", { type: "button", class: "button-small button-danger", id: "delete-round-confirm" },
        "确认删除");
      const cancel = h("button", { type: "button", class: "button-small" }, "取消");
      confirm.addEventListener("click", async () => {
        confirm.disabled = cancel.disabled = true;
        try {
          await api(`/api/inspections/${inspectionId}`, { method: "DELETE" });
          location.assign("/?deleted=" + encodeURIComponent(inspection.name));
        } catch (error) {
          fill(box, alertBox(messageOf(error)));
        }
      });
      cancel.addEventListener("click", start);
      fill(box, h("span", { class: "small" }, `确定删除“${inspection.name}”及其全部材料？`), " ", confirm, " ", cancel);
    });
    fill(box, begin);
  };
  start();
}

async function init() {
  fill(documents, loading());
  const [inspection, docs] = await Promise.allSettled([loadInspection(), loadDocuments()]);
  if (docs.status === "rejected") {
    notFound(docs.reason);
    return;
  }
  if (inspection.status === "rejected") {
    notFound(inspection.reason);
    return;
  }
  if (!inspection.value) {
    notFound({ detail: "没有找到该巡察轮次" });
    return;
  }
  setupUpload();
  setupDeleteRound(inspection.value);
}

init().catch((error) => notFound(error));
