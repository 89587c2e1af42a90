// The evidence behind a tag, as a reviewer reads it: the sentence with its evidence phrases
// highlighted, the matched checklist terms, and the closest checklist wording. The API has already
// left out single characters and function words (也、没有、的、了 …) and joined touching words into
// phrases (`tags.phrases`); no statistical weights are shown.
import { h, highlight } from "./dom.js";
import { percent } from "./format.js";

export function evidenceBlock(finding, { open = false } = {}) {
  const tags = finding.tags || {};
  const evidence = tags.evidence || [];
  const phrases = tags.phrases || [];
  const terms = [...new Set(evidence.filter((e) => e.kind === "keyword").map((e) => e.text))];
  const similar = evidence.filter((e) => e.kind === "similar");
  if (!phrases.length && !terms.length && !similar.length) return null;
  const item = evidence.length ? evidence[0].item : null;
  return h("details", { class: "evidence", open },
    h("summary", null, "判定依据"),
    item ? h("p", { class: "small muted" }, `对照条目 ${item} 的依据：`) : null,
    phrases.length ? h("p", { class: "evidence-text" },
      highlight(finding.text, phrases, (span, part) => h("mark", {
        class: ["evidence-word", span.keyword && "evidence-term"],
        title: span.keyword ? "含负面清单词语" : "判定依据的词句",
      }, part))) : null,
    phrases.length ? h("div", { class: "chips evidence-phrases" }, h("span", { class: "small muted" }, "依据词句："),
      phrases.map((p) => h("span", { class: ["chip", "chip-small", p.keyword && "chip-keyword"] }, p.text))) : null,
    terms.length ? h("div", { class: "chips evidence-terms" }, h("span", { class: "small muted" }, "命中清单词语："),
      terms.map((t) => h("span", { class: "chip chip-small chip-keyword" }, t))) : null,
    similar.map((e) => h("p", { class: "small" }, h("span", { class: "muted" }, `相近的清单表述（${percent(e.weight)}）：`),
      e.text)));
}

/** Review counts from findings' latest reviews: {total, flagged, unreviewed, confirm, reject, correct}. */
export function reviewCounts(findings) {
  const counts = { total: findings.length, flagged: 0, unreviewed: 0, confirm: 0, reject: 0, correct: 0 };
  for (const f of findings) {
    if (f.tags && f.tags.is_finding) counts.flagged += 1;
    counts[f.review ? f.review.action : "unreviewed"] += 1;
  }
  return counts;
}

export const COUNT_LABELS = [["unreviewed", "待审核"], ["confirm", "已确认"], ["reject", "已驳回"], ["correct", "已更正"]];

/** The counts bar: "待审核 3 · 已确认 1 · 已驳回 2 · 已更正 0" with data-count attributes for tests. */
export function countsBar(counts) {
  return COUNT_LABELS.map(([key, label]) => h("span", { class: `count count-${key}`, dataset: { count: key } },
    `${label} `, h("strong", null, String(counts[key] || 0))));
}
