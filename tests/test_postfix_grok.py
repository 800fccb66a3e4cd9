"""Field-by-field agreement with the postfix-grok-patterns test cases: where one of
our Postfix grammars reads a case's message and carries a field the reference
parser extracts too, the two values must be the same."""

from __future__ import annotations

import polars as pl
import yaml

from forensics.core.lineparse import extract
from grammars import postfix as g
from grammars import smtp
from tests.conftest import CONFORMANCE, CORPUS, corpus

CASES = CORPUS / "postfix" / "grok-patterns" / "cases"
GRAMMARS = (g.CONNECT, g.DISCONNECT, g.CLIENT, g.REJECT, g.QMGR_FROM, g.DELIVERY)
# grok field -> ours (see _ours for the derived ones).
FIELDS = {
    "postfix_client_hostname": "name",
    "postfix_client_ip": "addr",
    "postfix_client_port": "port",
    "postfix_queueid": "qid",
    "postfix_smtp_stage": "cmd",
    "postfix_status_code": "code",
    "postfix_status_code_enhanced": "status_code",
    "postfix_from": "from_addr",
    "postfix_status": "status",
    "postfix_smtp_response": "response",
    "postfix_pipe_response": "response",
    "postfix_error_response": "response",
}


def _ours(row: dict) -> dict:
    """Our fields for one case, with the reply and the delivery detail split as the
    reader splits them."""
    out = {k: v for k, v in row.items() if v is not None}
    if "reply" in out:
        reply = pl.Series([out["reply"]]).str.extract(g.REJECT_TRAILER_SPLIT, 1)[0] or out["reply"]
        parts = extract(pl.Series([reply]), smtp.REPLY).row(0, named=True)
        if parts["matched"]:
            out["code"], out["status_code"] = parts["code"], parts["status"]
    if "detail" in out:
        out["response"] = out["detail"].removesuffix(")")
    if "qid" in out and "from_addr" not in out and row.get("matched_grammar") == g.QMGR_FROM.name:
        out["from_addr"] = ""  # the null sender <> is an empty capture
    return out


def test_grok_cases_agree_field_by_field():
    files = sorted(corpus(CASES).glob("*.yaml"))
    cases = [yaml.safe_load(f.read_text()) for f in files]
    data = pl.Series([str(c["data"]) for c in cases])
    matched: dict[int, dict] = {}
    for grammar in GRAMMARS:
        found = extract(data, grammar)
        for i, row in enumerate(found.iter_rows(named=True)):
            if row["matched"] and i not in matched:
                matched[i] = {**row, "matched_grammar": grammar.name}
    compared, disagreements = 0, []
    for i, row in matched.items():
        ours = _ours(row)
        for theirs, value in cases[i]["results"].items():
            if theirs in FIELDS and FIELDS[theirs] in ours:
                compared += 1
                if str(ours[FIELDS[theirs]]) != str(value):
                    disagreements.append((files[i].name, theirs, value, ours[FIELDS[theirs]]))
    CONFORMANCE.append(
        f"postfix grok-patterns: {len(matched)} of {len(cases)} cases are messages our "
        f"grammars read; {compared - len(disagreements)} of {compared} shared fields agree"
    )
    assert len(matched) >= 30 and compared >= 80
    assert disagreements == []
