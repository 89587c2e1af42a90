import { api } from "../api.js";
import { alertBox, empty, fill, h, loading, messageOf, showError } from "../dom.js";
import { focusLabel } from "../format.js";

const groupLinks = Array.from(document.querySelectorAll("#groups a[data-group]"));
const list = document.getElementById("items");
const detail = document.getElementById("detail");
const count = document.getElementById("item-count");
const searchForm = document.getElementById("checklist-search");
const input = document.getElementById("checklist-q");
const state = { group: "", q: "", item: "" };

function syncUrl() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) if (value) params.set(key, value);
  const text = params.toString();
  history.replaceState(null, "", "/checklist" + (text ? "?" + text : ""));
}

function markActive() {
  for (const link of groupLinks) link.classList.toggle("active", link.dataset.group === state.group);
  for (const row of list.querySelectorAll("button[data-item-id]")) {
    row.classList.toggle("active", row.dataset.itemId === state.item);
  }
}

function revealActive() {
  const row = list.querySelector("button.active[data-item-id]");
  if (row) row.scrollIntoView({ block: "nearest" });
}

let sequence = 0;
async function loadList() {
  const mine = ++sequence;
  fill(list, h("li", null, loading()));
  try {
    const items = await api("/api/checklist", { params: { group: state.group, q: state.q } });
    if (mine !== sequence) return;
    count.textContent = `${items.length} 条`;
    if (!items.length) {
      fill(list, h("li", null, empty("没有找到相关条目")));
      return;
    }
    fill(list, items.map((item) => h("li", null, h("button", {
      type: "button", class: "item-row", dataset: { itemId: item.id }, onclick: () => showItem(item.id),
    }, h("span", { class: "chip-id" }, item.id), h("span", { class: "item-title" }, item.title),
    h("span", { class: "muted small" }, item.discipline)))));
    markActive();
    revealActive();
  } catch (error) {
    if (mine === sequence) fill(list, h("li", null, alertBox(messageOf(error))));
  }
}

function section(title, content) {
  return h("section", { class: "detail-section" }, h("h3", null, title), content);
}

function bullets(values) {
  return h("ul", null, values.map((v) => h("li", null, v)));
}

async function showItem(id) {
  state.item = id;
  syncUrl();
  markActive();
  fill(detail, loading());
  try {
    const item = await api(`/api/checklist/${encodeURIComponent(id)}`);
    fill(detail,
      h("div", { class: "detail-head" }, h("span", { class: "chip-id big" }, item.id), h("h2", null, item.title)),
      h("p", { class: "muted small" }, [item.head, focusLabel(item.focus), item.discipline !== "无" ? item.discipline : null,
        item.eight_rules_category].filter(Boolean).join(" · ")),
      section("表现形式", bullets(item.manifestations)),
      section("监督检查要点", bullets(item.check_points)),
      section("依据", h("ul", null, item.basis.map((b) => h("li", null, h("span", { class: "strong" }, b.regulation),
        b.article ? ` ${b.article}` : "", b.chapter ? h("span", { class: "muted" }, ` （${b.chapter}）`) : null)))),
      section("问题表述（供报告使用）", h("ol", { class: "wordings" }, item.wordings.map((w) => h("li", null, w)))),
      section("关键词", h("div", { class: "chips" },
        item.keywords.map((k) => h("span", { class: "chip chip-small chip-keyword" }, k)),
        (item.synonyms || []).map((k) => h("span", { class: "chip chip-small" }, k)))),
      section("整改建议", h("p", null, item.rectification)));
  } catch (error) {
    showError(detail, error);
  }
}

for (const link of groupLinks) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    state.group = link.dataset.group;
    syncUrl();
    markActive();
    loadList();
  });
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  state.q = input.value.trim();
  syncUrl();
  loadList();
});

const params = new URLSearchParams(location.search);
state.group = (params.get("group") || "").toUpperCase();
state.q = params.get("q") || "";
input.value = state.q;
markActive();
loadList();
if (params.get("item")) showItem(params.get("item").toUpperCase());
