// Links to the 画像 pages of a unit or a person (names go into the path percent-encoded).
import { h } from "./dom.js";

export function unitHref(unit, demo = false) {
  return `/profiles/units/${encodeURIComponent(unit)}${demo ? "?include_demo=true" : ""}`;
}

export function personHref(name, demo = false) {
  return `/profiles/people/${encodeURIComponent(name)}${demo ? "?include_demo=true" : ""}`;
}

export function unitLink(unit, props = {}) {
  return unit ? h("a", { class: "profile-link", href: unitHref(unit, props.demo), title: "查看单位画像", ...props, demo: null }, unit) : null;
}

export function personLink(name, props = {}) {
  return name ? h("a", { class: "profile-link", href: personHref(name, props.demo), title: "查看人员画像", ...props, demo: null }, name) : null;
}
