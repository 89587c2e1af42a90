// Picking negative-checklist items (for 更正): search GET /api/checklist?q=…, choose several.
import { api } from "./api.js";
import { alertBox, fill, h, messageOf } from "./dom.js";

/**
 * A picker element. `initial`: [{id, title}] preselected; onSubmit(ids) (async); onCancel().
 */
export function itemPicker({ initial = [], onSubmit, onCancel }) {
  const chosen = new Map(initial.map((item) => [item.id, item.title]));
  const chosenBox = h("div", { class: "chips picker-chosen" });
  const results = h("ul", { class: "picker-results" });
  const input = h("input", { type: "search", maxlength: "100", placeholder: "输入关键词查找清单条目，如：公务接待",
    "aria-label": "查找负面清单条目", class: "picker-input" });
  const message = h("div", { class: "picker-message" });
  const submit = h("button", { type: "button", class: "button-primary button-small" }, "提交更正");
  const cancel = h("button", { type: "button", class: "button-small" }, "取消");

  const renderChosen = () => {
    if (!chosen.size) {
      fill(chosenBox, h("span", { class: "muted small" }, "尚未选择条目"));
    } else {
      fill(chosenBox, Array.from(chosen, ([id, title]) => h("span", { class: "chip chip-selected" },
        h("span", { class: "chip-id" }, id), title,
        h("button", { type: "button", class: "chip-remove", "aria-label": `移除 ${id}`, title: "移除",
          onclick: () => { chosen.delete(id); renderChosen(); } }, "×"))));
    }
    submit.disabled = !chosen.size;
  };

  let sequence = 0;
  const search = async () => {
    const q = input.value.trim();
    const mine = ++sequence;
    if (!q) {
      fill(results);
      return;
    }
    try {
      const items = await api("/api/checklist", { params: { q, limit: 12 } });
      if (mine !== sequence) return; // a newer search is under way
      if (!items.length) {
        fill(results, h("li", { class: "muted small" }, "没有找到相关条目"));
        return;
      }
      fill(results, items.map((item) => h("li", null,
        h("button", { type: "button", class: "picker-option", dataset: { itemId: item.id },
          onclick: () => { chosen.set(item.id, item.title); renderChosen(); } },
          h("span", { class: "chip-id" }, item.id), " ", item.title))));
    } catch (error) {
      if (mine === sequence) fill(results, h("li", null, alertBox(messageOf(error))));
    }
  };
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      search();
    }
  });
  submit.addEventListener("click", async () => {
    submit.disabled = cancel.disabled = true;
    fill(message);
    try {
      await onSubmit(Array.from(chosen.keys()));
    } catch (error) {
      fill(message, alertBox(messageOf(error)));
      submit.disabled = cancel.disabled = false;
    }
  });
  cancel.addEventListener("click", () => onCancel());
  renderChosen();
  const element = h("div", { class: "picker" },
    h("div", { class: "picker-label small" }, "更正后的清单条目："), chosenBox, input, results, message,
    h("div", { class: "button-row" }, submit, cancel));
  setTimeout(() => input.focus(), 0);
  return element;
}
