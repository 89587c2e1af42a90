// Building DOM nodes. Text always goes in as text nodes / textContent, never as HTML: document
// text and everything else from the API is untrusted.

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden", "open", "multiple", "required"]);

/** A local link target: only same-site paths are ever used as href. */
export function safeHref(value) {
  const text = String(value);
  return text.startsWith("/") && !text.startsWith("//") && !text.includes("\\") ? text : "#";
}

/** h("a", {class: "x", href: "/documents/1", onclick: f}, "text", child, [more]) */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "text") element.textContent = String(value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (key === "href") element.setAttribute("href", safeHref(value));
    else if (PROPERTIES.has(key)) element[key] = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

/** Replace the content of `element` with `children`. */
export function fill(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

/**
 * `text` as nodes with the spans [{start, end, ...}] wrapped by makeMark(span, textOfSpan) (a <mark> by
 * default). Spans are offsets into text; overlapping spans are merged into the earlier one.
 */
export function highlight(text, spans, makeMark) {
  const make = makeMark || ((_span, part) => h("mark", null, part));
  const sorted = (spans || [])
    .filter((s) => Number.isInteger(s.start) && Number.isInteger(s.end) && s.end > s.start)
    .map((s) => ({ ...s, start: Math.max(0, s.start), end: Math.min(text.length, s.end) }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const nodes = [];
  let at = 0;
  for (const span of sorted) {
    if (span.start < at) continue; // overlaps a span already marked
    if (span.start > at) nodes.push(document.createTextNode(text.slice(at, span.start)));
    nodes.push(make(span, text.slice(span.start, span.end)));
    at = span.end;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

export function alertBox(message, kind = "error") {
  return h("div", { class: `alert alert-${kind}`, role: kind === "error" ? "alert" : "status" }, message);
}

/** Show an error (ApiError or anything else) in `container`, replacing its content. */
export function showError(container, error) {
  fill(container, alertBox(messageOf(error)));
}

export function messageOf(error) {
  if (error && typeof error.detail === "string") return error.detail;
  return "页面出错了，请刷新后重试";
}

export function loading(text = "正在加载…") {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

/** A button that runs an async action, disabled while it runs. */
export function actionButton(label, action, props = {}) {
  const button = h("button", { type: "button", ...props }, label);
  button.addEventListener("click", async () => {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await action(button);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
