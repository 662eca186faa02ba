"""Regenerate the rule graph in docs/dag.md from the workflow itself.

    python docs/update_rulegraph.py          # rewrite the block in docs/dag.md
    python docs/update_rulegraph.py --check  # exit 1 if docs/dag.md is out of date

The block is Snakemake's own `--rulegraph mermaid-js` output, which GitHub renders as a picture.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "dag.md"
START, END = "<!-- rulegraph:start -->", "<!-- rulegraph:end -->"


def rulegraph() -> str:
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    # The repository's own config, named explicitly (the Snakefile's `configfile:` is relative
    # to the working directory), and an empty scratch project: the graph does not depend on
    # what results/ holds, and nothing is written into the checkout.
    with tempfile.TemporaryDirectory() as work:
        proc = subprocess.run(
            [snakemake, "-s", str(ROOT / "Snakefile"), "-d", work,
             "--configfile", str(ROOT / "config" / "config.yaml"),
             "--rulegraph", "mermaid-js", "--quiet", "all"],
            capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"snakemake --rulegraph failed:\n{proc.stderr[-4000:]}")
    out = proc.stdout
    lines = out[out.index("---"):].strip().splitlines()
    # Snakemake prints the edges in no fixed order; sort them so the block is reproducible
    nodes = [line for line in lines if "-->" not in line]
    return "\n".join(nodes + sorted(line for line in lines if "-->" in line))


def block() -> str:
    return f"{START}\n```mermaid\n{rulegraph()}\n```\n{END}"


def main() -> int:
    readme = PAGE.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        print(f"{PAGE} lacks the {START} ... {END} markers", file=sys.stderr)
        return 2
    updated = pattern.sub(lambda _: block(), readme)
    if "--check" in sys.argv:
        if updated != readme:
            print("docs/dag.md rule graph is out of date: run python docs/update_rulegraph.py")
            return 1
        return 0
    PAGE.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
