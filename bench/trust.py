"""Trust of leads and report drafts on every round of the database in XUNCHA_HOME.

For each round: leads and report problems with raw ``{slot}`` or 【待补充】 markers, wordings (and
alternatives) stating a number, name or unit absent from their evidence, leads citing a finding
of their own round as a prior case, and the time to build both. Run after ingesting material,
e.g. the seed reports: ``XUNCHA_HOME=/tmp/seeds xuncha ingest ../shared/seeds --inspection 种子报告
--team 测试组 && XUNCHA_HOME=/tmp/seeds python bench/trust.py``.
"""
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nlp import entities
from nlp.checklist import load_checklist
from service import artefacts, context, reports
from service.settings import get_settings
from service.leads import inspection_leads

RAW = re.compile(r"\{[^{}]{1,10}\}")
MARK = re.compile(r"【待补充：[^】]*】")

def unsupported(wording, evidence):
    wording = MARK.sub("", RAW.sub("", wording))
    found = [e.text for e in entities.money(wording) if e.text not in evidence]
    found += [n for n in re.findall(r"\d+(?:\.\d+)?", wording) if n not in evidence]
    found += [p.text for p in entities.persons(wording) if p.text not in evidence]
    units = [o.text for o in entities.organisations(evidence)]
    found += [o.text for o in entities.organisations(wording) if o.text not in evidence and not any(o.text.startswith(u) for u in units)]
    return found

repository = context.repository()
service = context.search_service()
embed = artefacts.embedder_for(get_settings()).embed_queries
checklist = load_checklist()
out = {}
for inspection in repository.list_inspections():
    documents = repository.list_documents(inspection_id=inspection.id)
    details = {d.id: repository.get_document(d.id) for d in documents}
    t = time.time()
    leads = inspection_leads([d.id for d in documents], service, embed)
    lead_seconds = time.time() - t
    own = {f"finding-{f.id}" for d in details.values() for f in d.findings}
    def evidence_of(doc_ids, texts):
        return "\n".join(texts) + "\n" + "\n".join(str(details[i].fields) for i in doc_ids if i in details)
    rows = []
    for lead in leads:
        ev = evidence_of({s.document_id for s in lead.sources}, [s.text for s in lead.sources])
        rows.append({"raw": bool(RAW.search(lead.wording)), "marker": bool(MARK.search(lead.wording)),
                     "unsupported": unsupported(lead.wording, ev),
                     "own_case": any(c.id in own for c in lead.similar_cases),
                     "self_sim": any((c.similarity or 0) >= 0.999 for c in lead.similar_cases),
                     "docs": len({s.document_id for s in lead.sources})})
    t = time.time()
    report = reports.rebuild(repository, checklist, inspection, None, service).report
    report_seconds = time.time() - t
    kinds = {d.id: d.kind for d in details.values()}
    probs = []
    for p in report.problems:
        ev = evidence_of({e.document_id for e in p.evidence}, [e.quote for e in p.evidence])
        probs.append({"included": p.included, "raw": bool(RAW.search(p.wording)), "marker": bool(MARK.search(p.wording)),
                      "unsupported": unsupported(p.wording, ev),
                      "alt_unsupported": sum(bool(unsupported(a.text, ev)) for a in p.alternatives),
                      "alts": len(p.alternatives),
                      "alt_raw": sum(bool(RAW.search(a.text)) for a in p.alternatives),
                      "only_other": all(kinds.get(e.document_id) == "other" for e in p.evidence)})
    out[inspection.name] = {
        "documents": len(documents), "leads": len(leads), "lead_seconds": round(lead_seconds, 1),
        "leads_raw_slots": sum(r["raw"] for r in rows), "leads_markers": sum(r["marker"] for r in rows),
        "leads_unsupported_facts": sum(bool(r["unsupported"]) for r in rows),
        "leads_citing_own_round": sum(r["own_case"] for r in rows), "leads_self_similar": sum(r["self_sim"] for r in rows),
        "leads_multi_doc": sum(r["docs"] >= 2 for r in rows),
        "problems": len(probs), "ticked": sum(p["included"] for p in probs), "report_seconds": round(report_seconds, 1),
        "ticked_only_work_reports": sum(p["included"] and p["only_other"] for p in probs),
        "problems_raw_slots": sum(p["raw"] for p in probs), "ticked_raw_slots": sum(p["raw"] and p["included"] for p in probs),
        "problems_markers": sum(p["marker"] for p in probs),
        "problems_unsupported_facts": sum(bool(p["unsupported"]) for p in probs),
        "alternatives": sum(p["alts"] for p in probs), "alternatives_raw_slots": sum(p["alt_raw"] for p in probs),
        "alternatives_unsupported": sum(p["alt_unsupported"] for p in probs),
        "unsupported_examples": [u for r in rows for u in r["unsupported"]][:10],
    }
print(json.dumps(out, ensure_ascii=False, indent=1))
