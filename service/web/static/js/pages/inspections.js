import { api } from "../api.js";
import { alertBox, empty, fill, h, loading, messageOf, showError } from "../dom.js";
import { dateTime } from "../format.js";
import { watchStartup } from "../startup.js";

const list = document.getElementById("inspections");
const form = document.getElementById("create-form");

async function load() {
  fill(list, loading());
  try {
    const inspections = await api("/api/inspections");
    if (!inspections.length) {
      fill(list, empty("还没有巡察轮次。" + (form ? "请在右侧新建。" : "")));
      return;
    }
    const rows = inspections.map((inspection) => h("tr", { dataset: { inspectionId: String(inspection.id) } },
      h("td", null, h("a", { href: `/inspections/${inspection.id}`, class: "strong" }, inspection.name),
        inspection.demo ? h("span", { class: "badge badge-quiet", title: "示例材料，检索默认不包含" }, "示例") : null),
      h("td", null, inspection.team),
      h("td", null, inspection.target_unit || "—"),
      h("td", { class: "num" }, String(inspection.document_count ?? "")),
      h("td", { class: "num" }, String(inspection.finding_count ?? "")),
      h("td", { class: "nowrap" }, dateTime(inspection.created_at))));
    fill(list, h("table", { class: "table" },
      h("thead", null, h("tr", null, h("th", null, "名称"), h("th", null, "巡察组"), h("th", null, "被巡察单位"),
        h("th", { class: "num" }, "文档"), h("th", { class: "num" }, "候选问题"), h("th", null, "创建时间"))),
      h("tbody", null, rows)));
    const deleted = new URLSearchParams(location.search).get("deleted");
    if (deleted) list.prepend(alertBox(`已删除巡察轮次“${deleted}”`, "success"));
  } catch (error) {
    showError(list, error);
  }
}

if (form) {
  const error = document.getElementById("create-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    const team = form.elements.team ? form.elements.team.value.trim() : undefined;
    if (!name || (form.elements.team && !team)) {
      error.textContent = form.elements.team ? "请填写轮次名称和巡察组" : "请填写轮次名称";
      error.hidden = false;
      return;
    }
    error.hidden = true;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const body = { name, target_unit: form.elements.target_unit.value.trim() || null };
      if (team) body.team = team;
      const created = await api("/api/inspections", { method: "POST", json: body });
      location.assign(`/inspections/${created.id}`);
    } catch (failure) {
      error.textContent = messageOf(failure);
      error.hidden = false;
      button.disabled = false;
    }
  });
}

load();
// While xuncha serve imports the demo material in the background, refresh the counts as it goes.
watchStartup(document.getElementById("startup-banner"), () => load());
