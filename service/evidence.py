"""The evidence shown to reviewers: checklist terms and content phrases, never function words.

The tagger explains an item with the words that weighed most; some are function words (也、没有、的、了)
that carry weight statistically but tell a reviewer nothing. What is shown keeps the matched
checklist terms and the content words (two characters or more, not a stop word), and joins words
that touch in the text into one phrase.
"""

from __future__ import annotations

STOP_WORDS = frozenset("""
也 没有 的 了 是 在 和 与 及 或 就 都 还 又 把 被 对 从 向 给 让 使 为 以 而 并 但 却 则 即 已 已经 曾 曾经
一个 一些 这个 那个 这些 那些 这样 那样 这种 那种 这里 那里 这是 那是 什么 怎么 怎样 如何 为什么 因为 所以 因此
如果 虽然 但是 然而 而且 并且 或者 以及 还是 就是 只是 只有 不是 没有 不会 不能 不要 可以 可能 应该 需要 能够
我们 你们 他们 她们 它们 我 你 他 她 它 自己 大家 有的 有些 其中 其他 其它 另外 此外 同时 然后 之后 以后 以前
之前 之间 当时 现在 目前 一直 一起 一下 一般 一样 一定 非常 十分 特别 比较 更加 最 很 太 再 才 只 仍 仍然
有 无 不 没 要 会 能 得 地 着 过 吗 呢 吧 啊 呀 嘛 么 之 其 此 该 各 每 某 等 等等 方面 情况 问题 工作 相关 有关
进行 开展 存在 通过 按照 根据 对于 关于 由于 作为 以上 以下 上述 如下 所有 全部 部分 个别 一是 二是 三是 四是
""".split())


def is_shown(text: str) -> bool:
    """A word or term worth showing a reviewer."""
    word = (text or "").strip()
    return len(word) >= 2 and word not in STOP_WORDS and not word.isdigit()


def clean_evidence(evidence: list[dict]) -> list[dict]:
    """Evidence without single characters and stop words; similar-phrase evidence is kept."""
    return [e for e in evidence or [] if e.get("kind") == "similar" or is_shown(e.get("text", ""))]


def phrases(text: str, evidence: list[dict], gap: int = 1) -> list[dict]:
    """Shown evidence words merged into phrases where they touch (or are ``gap`` characters apart)
    in ``text``: [{"text", "start", "end", "terms"}], in text order. A phrase with a checklist
    term is marked ``keyword``."""
    spans = sorted((e["start"], e["end"], e.get("kind")) for e in clean_evidence(evidence)
                   if isinstance(e.get("start"), int) and isinstance(e.get("end"), int) and e["end"] > e["start"])
    merged: list[list] = []
    for start, end, kind in spans:
        if merged and start <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = merged[-1][2] or kind == "keyword"
        else:
            merged.append([start, end, kind == "keyword"])
    return [{"text": text[s:e], "start": s, "end": e, "keyword": k} for s, e, k in merged]


def for_display(finding: dict) -> dict:
    """A finding dict (API shape) with its evidence cleaned and its evidence phrases added."""
    tags = finding.get("tags")
    if not tags or not tags.get("evidence"):
        return finding
    evidence = clean_evidence(tags["evidence"])
    return {**finding, "tags": {**tags, "evidence": evidence,
                                "phrases": phrases(finding.get("text", ""), evidence)}}
