// Calls to the JSON API with the session cookie. Errors become ApiError with the API's Chinese
// `detail`; a 401 sends the browser to the login page (and back here afterwards).

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

const DEFAULT_DETAILS = {
  0: "无法连接服务器，请检查网络后重试",
  400: "请求不正确",
  401: "登录已过期，请重新登录",
  403: "没有权限执行此操作",
  404: "没有找到请求的内容",
  409: "操作与当前状态冲突，请刷新后重试",
  413: "上传内容过大",
  415: "不支持的文件类型",
  422: "请求参数不合法",
  429: "操作过于频繁，请稍后再试",
  500: "服务器内部错误，请稍后重试；如果问题持续存在，请联系管理员。",
  502: "服务暂时不可用，请稍后重试",
  503: "服务暂时不可用，请稍后重试",
  504: "服务响应超时，请稍后重试",
};

export function loginUrl() {
  return "/login?next=" + encodeURIComponent(location.pathname + location.search);
}

export function toLogin() {
  location.assign(loginUrl());
}

/** "?a=1&b=2" from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

export function errorFrom(status, data) {
  const detail = data && typeof data.detail === "string" && data.detail
    ? data.detail
    : DEFAULT_DETAILS[status] || `请求失败（状态码 ${status}）`;
  const code = data && typeof data.code === "string" ? data.code : "error";
  return new ApiError(status, code, detail);
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * fetch() a JSON endpoint. Options: method, json (request body), params (query), redirect401.
 * Resolves to the parsed body (null for 204), rejects with ApiError.
 */
export async function api(path, { method = "GET", json, params, redirect401 = true } = {}) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path + query(params), init);
  } catch {
    throw errorFrom(0, null);
  }
  const text = response.status === 204 ? "" : await response.text().catch(() => "");
  const data = text ? parse(text) : null;
  if (response.ok) return data;
  if (response.status === 401 && redirect401) toLogin();
  throw errorFrom(response.status, data);
}

/**
 * Upload one file (multipart field `files`) with XMLHttpRequest so upload progress can be shown.
 * onProgress(fraction 0–1). Resolves to the created job.
 */
export function uploadFile(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", path);
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "text";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      const data = request.responseText ? parse(request.responseText) : null;
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve(data);
        return;
      }
      if (request.status === 401) toLogin();
      reject(errorFrom(request.status, data));
    });
    request.addEventListener("error", () => reject(errorFrom(0, null)));
    request.addEventListener("abort", () => reject(new ApiError(0, "aborted", "上传已取消")));
    const form = new FormData();
    form.append("files", file, file.name);
    request.send(form);
  });
}

/**
 * Follow an ingestion job until it is done, failed or cancelled: its Server-Sent Events stream, falling back
 * to polling GET /api/jobs/{id}. onUpdate(job) for every change; resolves to the final job.
 */
export function followJob(jobId, onUpdate) {
  const path = "/api/jobs/" + encodeURIComponent(jobId);
  return new Promise((resolve, reject) => {
    let finished = false;
    const finish = (job) => {
      if (finished) return;
      finished = true;
      onUpdate(job);
      resolve(job);
    };
    const poll = async () => {
      let failures = 0;
      while (!finished) {
        try {
          const job = await api(path);
          failures = 0;
          if (job.status === "done" || job.status === "failed" || job.status === "cancelled") {
            finish(job);
            return;
          }
          onUpdate(job);
        } catch (error) {
          failures += 1;
          if (error.status !== 0 || failures > 10) {
            finished = true;
            reject(error);
            return;
          }
        }
        await new Promise((wake) => setTimeout(wake, 700));
      }
    };
    if (typeof EventSource === "undefined") {
      poll();
      return;
    }
    const source = new EventSource(path + "/events");
    const read = (event) => parse(event.data);
    source.addEventListener("progress", (event) => {
      const job = read(event);
      if (job && job.id) onUpdate(job);
    });
    source.addEventListener("end", (event) => {
      source.close();
      const job = read(event);
      if (job && job.id) finish(job);
      else poll(); // the job disappeared or the stream ended early: ask directly
    });
    source.addEventListener("error", () => {
      // Login expired, job not visible, or the connection dropped: polling reports it properly.
      source.close();
      if (!finished) poll();
    });
  });
}
