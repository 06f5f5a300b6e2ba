#!/usr/bin/env python3
"""The README's code snippets are cut from the examples: every snippet that follows a
`<!-- cut from PATH -->` line must appear in PATH, its lines in the same order (indentation aside;
lines `// ...` stand for what was left out). Each example must have a snippet.
   readme_snippets_test.py SOURCE_DIR"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
readme = (root / "README.md").read_text()
snippets = re.findall(r"<!-- cut from (\S+) -->\n```\w*\n(.*?)```", readme, re.S)
failures = []
for path, snippet in snippets:
    source = [line.strip() for line in (root / path).read_text().splitlines()]
    position = 0
    for line in snippet.splitlines():
        wanted = line.strip()
        if not wanted or wanted == "// ...":
            continue
        try:
            position = source.index(wanted, position) + 1
        except ValueError:
            failures.append(f"{path}: not found (in this order): {wanted}")
            break
expected = {"examples/CMakeLists.txt", "examples/echo/main.cpp", "examples/chat/main.cpp",
            "examples/cubes/main.cpp"}
missing = expected - {path for path, _ in snippets}
failures += [f"README.md has no snippet cut from {path}" for path in sorted(missing)]
if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"PASS: {len(snippets)} README snippets match the examples they are cut from")
