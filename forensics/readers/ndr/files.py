"""Files of mail -> their rows, in this process: every message of every file, each
row with its file and line, and the bounces whose recipients could not be found."""

from __future__ import annotations

from forensics.readers.ndr.mbox import line_of, split_messages
from forensics.readers.ndr.message import read_message

# (rows, unparsed rows, records per file, unparsed lines per file)
Part = tuple[list[dict[str, object]], list[dict[str, object]], list[int], list[int]]


def read_texts(texts: list[str], sources: list[str]) -> Part:
    """(rows, unparsed rows, records per file, unparsed lines per file): plain Python
    values, so that a worker process can hand them back."""
    rows: list[dict[str, object]] = []
    unparsed: list[dict[str, object]] = []
    records = [0] * len(texts)
    unparsed_counts = [0] * len(texts)
    for fid, (text, source) in enumerate(zip(texts, sources, strict=True)):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        for first_line, message in split_messages(text):
            found, bounce = read_message(message)
            for row in found:
                line = first_line - 1 + line_of(message, str(row["recipient"]), 1)
                rows.append({"source": source, "line": line, **row})
            records[fid] += len(found)
            if bounce and not found:
                unparsed.append(
                    {
                        "source": source,
                        "line": first_line,
                        "reason": "a bounce whose failed recipients could not be found",
                        "text": message.split("\n\n", 1)[0][:200],
                    }
                )
                unparsed_counts[fid] += message.count("\n") + (not message.endswith("\n"))
    return rows, unparsed, records, unparsed_counts
