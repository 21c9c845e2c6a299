#!/usr/bin/env python3
"""Copy the Mermaid block of each counterexample file named by a
`<!-- MERMAID NAME -->` marker in spec/findings/*.md into that file, below the marker
(replacing a previous copy, which ends at `<!-- /MERMAID -->`). Run from the repo root."""
import glob
import re

for f in sorted(glob.glob("spec/findings/*.md")):
    text = open(f).read()

    def fill(m):
        name = m.group(1)
        ce = open(f"proofs/counterexamples/{name}.md").read()
        block = re.search(r"```mermaid\n.*?```", ce, re.S).group(0)
        return f"<!-- MERMAID {name} -->\n{block}\n<!-- /MERMAID -->"

    new = re.sub(r"<!-- MERMAID (\S+) -->(?:\n```mermaid\n.*?```\n<!-- /MERMAID -->)?", fill, text, flags=re.S)
    if new != text:
        open(f, "w").write(new)
