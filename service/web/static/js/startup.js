// The banner shown while `xuncha serve` prepares in the background (demo import, search index):
// "示例数据导入中 n/N；检索索引建立中". Polls GET /api/startup until everything is ready.
import { api } from "./api.js";

const POLL_MS = 2000;

/** Keep the banner `element` up to date; `onChange(status)` runs when the progress moves. */
export function watchStartup(element, onChange) {
  if (!element) return;
  let last = "";
  async function poll() {
    let status;
    try {
      status = await api("/api/startup", { redirect401: false });
    } catch {
      element.hidden = true; // not served by `xuncha serve`, or logged out: no banner
      return;
    }
    const text = status.message || "";
    element.textContent = text ? `服务正在后台准备：${text}。其他功能可以正常使用。` : "";
    element.hidden = !text;
    const key = `${status.ready}|${status.demo.done}|${status.index.state}`;
    if (last && key !== last && onChange) onChange(status);
    last = key;
    if (!status.ready) setTimeout(poll, POLL_MS);
  }
  poll();
}
