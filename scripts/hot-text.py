#!/usr/bin/env python3
"""Which functions the agent runs, as link-order files for the release build.

    scripts/hot-text.py LINK_MAP BINARY_NAME OUT_DIR CALLGRIND_OUT... [-- CALLGRIND_OUT...]

A process keeps every page of code it has touched resident, and the kernel maps code in 64 KB
blocks, so a cycle that runs 2 MB of functions spread over 21 MB of .text keeps most of the
21 MB resident. Placing the functions that run next to each other makes the resident code about
the size of the code that runs.

Input: the lld link map (-Map) of a release binary and callgrind profiles of that same binary
(--dump-instr=yes: every executed instruction address, so even 10-byte functions and functions
without a symbol are seen). Each executed address is attributed to its input section.
Output, in OUT_DIR:
  hot-symbols.txt  for --symbol-ordering-file: one symbol per hot input section, hottest first
                   (the section of a symbol moves as a whole; for objects compiled without
                   function sections that is the object's whole .text);
  hot-text.ld      a linker script fragment (INSERT BEFORE .text) for hot sections that have
                   no symbol to name them (LLVM's private ".L" functions: closure context
                   destructors, unnamed helpers), matched by object file and section name.
Profiles after "--" add what only they ran after everything the first group ran (the agent
with Docker after the agent without: a host without Docker then keeps no Docker code resident
between the functions it runs). Names that no longer exist after a code change are ignored by
the linker; the profile only
loses precision, never correctness. scripts/profile-release.sh regenerates both files.
"""
import bisect
import collections
import re
import sys

SECTION = re.compile(r"^\s*([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(\d+)\s(\s*)(\S.*)$")


def text_sections(map_path):
    """[address, size, object, section, first symbol or None] for the input sections of .text.
    In lld's map an output section line has no indent beyond its columns, an input section line
    8 more spaces, and a symbol line 16 more."""
    sections, in_text = [], False
    with open(map_path) as f:
        for line in f:
            m = SECTION.match(line.rstrip("\n"))
            if not m:
                continue
            vma, size, depth, name = int(m.group(1), 16), int(m.group(3), 16), len(m.group(5)), m.group(6)
            if depth < 4:
                in_text = name in (".text", ".text.hot")
            elif in_text and depth < 12:
                section = re.match(r"^(.*):\((\.text[^)]*)\)$", name)
                sections.append([vma, size, section.group(1), section.group(2), None] if section else [vma, size, name, "", None])
            elif in_text and sections and sections[-1][4] is None:
                sections[-1][4] = name.strip()
    return [s for s in sections if s[3]]


def executed(callgrind_paths, binary_name):
    """Instruction addresses (link-time addresses) executed in the binary, with their cost."""
    cost = collections.Counter()
    rx = re.compile(r"(c?)ob=\((\d+)\)(?: (.*))?")
    for path in callgrind_paths:
        names, inside = {}, False
        with open(path) as f:
            for line in f:
                if line.startswith(("ob=", "cob=")):
                    m = rx.match(line.rstrip("\n"))
                    if m.group(3):
                        names[m.group(2)] = m.group(3)
                    if not m.group(1):
                        inside = names.get(m.group(2), "").endswith("/" + binary_name)
                elif inside and line.startswith("0x"):
                    parts = line.split()
                    cost[int(parts[0], 16)] += 1 + (int(parts[1]) if len(parts) > 1 else 0)
    return cost


def object_pattern(obj):
    """A linker-script file pattern for an object: the build directory differs between machines."""
    archive = re.match(r"^(.*/)?([^/]+\.a)\(([^)]+)\)$", obj)
    if archive:
        return f"*{archive.group(2)}:{archive.group(3)}"
    parts = obj.split("/")
    return "*/" + "/".join(parts[-2:])


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    map_path, binary_name, out_dir, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    groups = [[]]
    for arg in rest:
        if arg == "--":
            groups.append([])
        else:
            groups[-1].append(arg)
    sections = text_sections(map_path)
    starts = [s[0] for s in sections]
    order, heat = [], {}
    for profiles in groups:
        group_heat = collections.Counter()
        for address, c in executed(profiles, binary_name).items():
            i = bisect.bisect_right(starts, address) - 1
            if i >= 0 and address < sections[i][0] + sections[i][1] and i not in heat:
                group_heat[i] += c
        order += [i for i, _ in group_heat.most_common()]
        heat.update(group_heat)
    symbols, unnamed, hot_bytes = [], [], 0
    for i in order:
        _, size, obj, section, symbol = sections[i]
        hot_bytes += size
        if section.startswith(".text..L") or symbol is None or symbol.startswith(".L"):
            unnamed.append(f"    {object_pattern(obj)}({section})")
        else:
            symbols.append(symbol)
    with open(f"{out_dir}/hot-symbols.txt", "w") as f:
        f.write("\n".join(dict.fromkeys(symbols)) + "\n")
    with open(f"{out_dir}/hot-text.ld", "w") as f:
        f.write("/* Generated by scripts/profile-release.sh (scripts/hot-text.py): hot functions that\n"
                "   have no symbol, placed right before .text where the ordered hot symbols begin. */\n"
                "SECTIONS {\n  .text.hot : {\n" + "\n".join(dict.fromkeys(unnamed)) + "\n  }\n}\nINSERT BEFORE .text;\n")
    print(f"hot input sections: {len(heat)} ({hot_bytes // 1024} kB): {len(symbols)} by symbol, "
          f"{len(unnamed)} by object and section; of {len(sections)} sections in .text")


if __name__ == "__main__":
    main()
