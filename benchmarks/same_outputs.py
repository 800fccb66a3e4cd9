"""Show that a change kept the outputs: the same inputs give the same frames, JSON and Markdown.

A refactoring promises that nothing a user sees moved. This script holds it to that:
it checks out a base revision into a temporary worktree, runs that tree's
`analyze --json --markdown` and `parse --out` on every evidence folder, runs the
working tree's on the same folders, and compares the JSON and Markdown byte for byte
and every Parquet frame row for row (Parquet's own bytes carry the writer's build,
the rows are what matters).

    python -m benchmarks.same_outputs       # base HEAD; inputs: sample_logs/* and the corpus
    python -m benchmarks.same_outputs --base 7108580 sample_logs/healthy-baseline

Exit 0 when every output is the same, 1 with a line per difference.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

# Real folders besides our own samples: every format the corpus has.
CORPUS_FOLDERS = [
    "postfix/lightmeter/rotated-directory",
    "postfix/lightmeter/scenarios",
    "postfix/fail2ban",
    "postfix/shlomif-relay",
    "postfix/logwatch",
    "ims",
    "w3c/plaso-iis",
    "syslog",
    "sendmail",
    "exim",
    "othermta",
    "ndr/flufl",
    "ndr/line-endings",
]


def default_inputs() -> list[Path]:
    inputs = sorted(p for p in (ROOT / "sample_logs").iterdir() if p.is_dir())
    if CORPUS.is_dir():
        inputs += [CORPUS / f for f in CORPUS_FOLDERS if (CORPUS / f).is_dir()]
    return inputs


def run_tree(tree: Path, inputs: list[Path], out: Path) -> None:
    """Run one tree's CLI on every input folder, writing its outputs under `out`."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    for i, folder in enumerate(inputs):
        target = out / f"{i:02d}"
        target.mkdir(parents=True)
        base = [sys.executable, "-m", "forensics"]
        subprocess.run(
            [*base, "analyze", str(folder), "-q", "-o", str(target / "report.html"),
             "--json", str(target / "findings.json"), "--markdown", str(target / "postmortem.md")],
            env=env, check=False, cwd=target, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        subprocess.run(
            [*base, "parse", str(folder), "--out", str(target / "frames")],
            env=env, check=False, cwd=target, stdout=subprocess.DEVNULL,
        )  # fmt: skip


def compare(inputs: list[Path], old: Path, new: Path) -> list[str]:
    problems = []
    for i, folder in enumerate(inputs):
        a, b = old / f"{i:02d}", new / f"{i:02d}"
        for name in ("findings.json", "postmortem.md"):
            if (a / name).exists() != (b / name).exists():
                problems.append(f"{folder}: {name} written by one tree only")
            elif (a / name).exists() and (a / name).read_bytes() != (b / name).read_bytes():
                problems.append(f"{folder}: {name} differs")
        frames_a = sorted(p.name for p in (a / "frames").glob("*.parquet"))
        frames_b = sorted(p.name for p in (b / "frames").glob("*.parquet"))
        if frames_a != frames_b:
            problems.append(f"{folder}: frames {frames_a} != {frames_b}")
        for name in set(frames_a) & set(frames_b):
            fa = pl.read_parquet(a / "frames" / name)
            fb = pl.read_parquet(b / "frames" / name)
            if not fa.equals(fb, null_equal=True) or fa.schema != fb.schema:
                problems.append(f"{folder}: frame {name} differs")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="revision to compare against")
    parser.add_argument("inputs", nargs="*", type=Path)
    args = parser.parse_args()
    inputs = [p.resolve() for p in args.inputs] or default_inputs()
    work = Path(tempfile.mkdtemp(prefix="same-outputs-"))
    base_tree = work / "base"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base_tree), args.base],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        run_tree(base_tree, inputs, work / "old")
        run_tree(ROOT, inputs, work / "new")
        problems = compare(inputs, work / "old", work / "new")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)])
        shutil.rmtree(work, ignore_errors=True)
    for line in problems:
        print(line)
    print(f"{len(inputs)} evidence folders, {len(problems)} differences against {args.base}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
