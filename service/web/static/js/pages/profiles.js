// 画像 lists: the units and people the reader's material is about, with counts, searchable by name.
import { api } from "../api.js";
import { empty, fill, h, loading, showError } from "../dom.js";
import { personHref, unitHref } from "../links.js";

const form = document.getElementById("profiles-filters");
const input = document.getElementById("profiles-q");
const demoBox = document.getElementById("profiles-demo");
const unitsBox = document.getElementById("units");
const peopleBox = document.getElementById("people");

function table(headers, rows) {
  return h("table", { class: "table" },
    h("thead", null, h("tr", null, headers.map((t) => h("th", null, t)))), h("tbody", null, rows));
}

async function load() {
  const params = { q: input.value.trim(), include_demo: demoBox.checked ? "true" : null };
  const demo = demoBox.checked;
  const wanted = new URLSearchParams();
  if (params.q) wanted.set("q", params.q);
  if (demo) wanted.set("include_demo", "true");
  history.replaceState(null, "", wanted.toString() ? `?${wanted}` : location.pathname);
  fill(unitsBox, loading());
  fill(peopleBox, loading());
  const [units, people] = await Promise.allSettled([api("/api/profiles/units", { params }), api("/api/profiles/people", { params })]);
  if (units.status === "rejected") showError(unitsBox, units.reason);
  else {
    document.getElementById("units-count").textContent = `${units.value.length} 个`;
    fill(unitsBox, units.value.length ? table(["单位", "类型", "巡察轮次", "问题", "整改任务", "未销号", "红灯"],
      units.value.map((u) => h("tr", { class: "unit-row" },
        h("td", null, h("a", { href: unitHref(u.unit, demo) }, u.unit)), h("td", null, u.unit_type),
        h("td", null, String(u.rounds)), h("td", null, String(u.findings)), h("td", null, String(u.tasks)),
        h("td", null, String(u.open_tasks)),
        h("td", null, u.red ? h("span", { class: "badge badge-warning-red" }, String(u.red)) : "0"))))
      : empty("没有找到被巡察单位。"));
  }
  if (people.status === "rejected") showError(peopleBox, people.reason);
  else {
    const list = people.value;
    document.getElementById("people-count").textContent = list.total > list.people.length
      ? `共 ${list.total} 人，显示前 ${list.people.length} 人` : `${list.total} 人`;
    fill(peopleBox, list.people.length ? table(["姓名", "身份", "材料", "问题", "整改任务", "涉及单位"],
      list.people.map((p) => h("tr", { class: "person-row" },
        h("td", null, h("a", { href: personHref(p.name, demo) }, p.name)),
        h("td", null, p.roles.map((r) => h("span", { class: "badge badge-quiet" }, r))),
        h("td", null, String(p.documents)), h("td", null, String(p.findings)), h("td", null, String(p.tasks)),
        h("td", null, p.units.join("、")))))
      : empty("没有找到人员。"));
  }
}

const initial = new URLSearchParams(location.search);
input.value = initial.get("q") || "";
demoBox.checked = initial.get("include_demo") === "true";
form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
load();
