// Chinese labels and formatting shared by the pages.

export const KIND_LABELS = {
  minutes: "会议记录/纪要",
  petition: "信访举报件",
  interview: "个别谈话记录",
  other: "其他材料",
  evidence: "整改佐证材料",
  case: "往届案例",
};

export const FOCUS_LABELS = {
  1: "聚焦一：贯彻落实党中央决策部署",
  2: "聚焦二：群众身边腐败和不正之风",
  3: "聚焦三：基层党组织软弱涣散",
  4: "聚焦四：巡视巡察整改落实",
};

export const FOCUS_SHORT = { 1: "聚焦一", 2: "聚焦二", 3: "聚焦三", 4: "聚焦四" };

export const COLLECTION_LABELS = { cases: "往届案例", findings: "候选问题" };

export const GRADES = ["进一步了解关注类", "了解关注类", "参考类"];

export const FIELD_LABELS = {
  meeting_name: "会议名称",
  date: "时间",
  place: "地点",
  chair: "主持人",
  recorder: "记录人",
  attendees: "出席",
  nonvoting: "列席",
  absentees: "缺席",
  agenda: "议题",
  decisions: "决定事项",
  complainant: "反映人",
  reported: "被反映人",
  allegations: "反映事项",
  amounts: "金额",
  dates: "日期",
  interviewee: "谈话对象",
  interviewee_position: "职务",
  interviewers: "谈话人",
};

export const FILE_STATUS = {
  pending: "等待上传",
  uploading: "正在上传",
  queued: "排队中",
  running: "处理中",
  added: "已导入",
  duplicate: "重复文件，已导入过",
  error: "失败",
  cancelled: "已取消",
  cancelling: "正在取消",
};

/** Ended states of an ingestion job (GET /api/jobs/{id}). */
export const JOB_ENDED = ["done", "failed", "cancelled"];

export const REVIEW_LABELS = { confirm: "已确认", reject: "已驳回", correct: "已更正" };

export function kindLabel(kind) {
  return KIND_LABELS[kind] || kind || "未知类型";
}

export function focusLabel(focus) {
  return FOCUS_LABELS[focus] || `聚焦${focus}`;
}

export function percent(score) {
  if (typeof score !== "number" || Number.isNaN(score)) return "";
  return `${Math.round(score * 100)}%`;
}

export function fileSize(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function money(yuan) {
  if (!Number.isFinite(yuan)) return String(yuan);
  return yuan >= 10000 ? `${(yuan / 10000).toLocaleString("zh-CN", { maximumFractionDigits: 4 })}万元`
    : `${yuan.toLocaleString("zh-CN")}元`;
}

export function dateTime(iso) {
  if (!iso) return "";
  // The API's timestamps are UTC; some are written without an offset.
  const text = String(iso);
  const date = new Date(/T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text) ? text + "Z" : text);
  if (Number.isNaN(date.getTime())) return String(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} `
    + `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function pageLabel(page) {
  return page ? `第 ${page} 页` : "";
}

export function canWrite() {
  return document.body.dataset.canWrite === "true";
}

export function setTitle(text) {
  document.title = `${text} · 巡察文档智能分析`;
}
