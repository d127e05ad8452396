#!/usr/bin/env python3
"""Regenerates the README's option table from Sources/AgentCore/Config/OptionSpec.swift
(the one table --help and the resolver read). CLITests checks the README against it."""
import re, pathlib
root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "Sources/AgentCore/Config/OptionSpec.swift").read_text()
agent = src[src.index("public enum AgentOptions"):src.index("public enum ReceiverOptions")]
specs = {}
for m in re.finditer(r'static let (\w+) = OptionSpec\("([^"]+)", env: "([^"]+)", default: (nil|"[^"]*"),\s*"((?:[^"\\]|\\.)*)"\)', agent):
    name, flag, env, default, summary = m.groups()
    specs[name] = (flag, env, None if default == "nil" else default.strip('"'), summary.replace('\\"', '"'))
order = re.search(r"static let all: \[OptionSpec\] = \[(.*?)\]", agent, re.S).group(1)
rows = ["| flag | variable | default | meaning |", "|---|---|---|---|"]
for name in [n.strip() for n in order.replace("\n", " ").split(",") if n.strip()]:
    flag, env, default, summary = specs[name]
    rows.append(f"| `--{flag}` | `{env}` | {('`' + default + '`') if default is not None else '—'} | {summary} |")
readme = (root / "README.md").read_text()
start = readme.index("| flag | variable | default | meaning |")
end = readme.index("\n\n", start)
(root / "README.md").write_text(readme[:start] + "\n".join(rows) + readme[end:])
print(f"{len(rows) - 2} options")
