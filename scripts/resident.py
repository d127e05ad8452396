#!/usr/bin/env python3
"""What of a running program is resident, page by page (which pages, and whose code they hold).

    scripts/resident.py PID [UNSTRIPPED_BINARY] [--top N]

Reads /proc/PID/maps and /proc/PID/pagemap (needs root) and attributes every resident page:
  * mappings of the binary itself -> ELF section (readelf -SW) and, inside sections that have
    symbols, the owning module: Swift symbols by their mangled module name ($s10Foundation...),
    ICU and BoringSSL by prefix, everything else by symbol name;
  * all other mappings -> by kind (heap, stack, anonymous, thread stacks, other files).
Prints kB per section and the largest modules, so a change can be judged by what it moves.
The binary given must be the same build as the running one, unstripped (strip the copy you run).
"""
import collections
import os
import re
import struct
import subprocess
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")


def maps(pid):
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5].strip() if len(parts) > 5 else ""
            out.append((start, end, parts[1], int(parts[2], 16), path))
    return out


def resident_pages(pid, start, end):
    """Virtual addresses of present pages in [start, end)."""
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(start // PAGE * 8)
        data = f.read((end - start) // PAGE * 8)
    pages = []
    for i in range(len(data) // 8):
        (entry,) = struct.unpack_from("<Q", data, i * 8)
        if entry >> 63 & 1:
            pages.append(start + i * PAGE)
    return pages


def sections(binary):
    out = []
    text = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout
    for line in text.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if m and int(m.group(2), 16):
            out.append((int(m.group(2), 16), int(m.group(2), 16) + int(m.group(4), 16), m.group(1)))
    return sorted(out)


def load_segments(binary):
    out = []
    text = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "LOAD":
            out.append((int(parts[1], 16), int(parts[2], 16), int(parts[4], 16)))  # offset, vaddr, filesz
    return out


def module_of(sym):
    m = re.match(r"_?\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)", sym)
    if m:
        n = int(m.group(1))
        return m.group(2)[:n] if len(m.group(2)) >= n else m.group(2)
    if sym.startswith(("$sS", "$ss", "_swift_", "swift_", "$sSo")):
        return "Swift runtime/stdlib"
    lower = sym.lower()
    if "icu" in lower or sym.startswith(("u_", "ucol_", "ubrk_", "uloc_", "ures_", "ucnv_", "udata_", "utrie")):
        return "ICU"
    if "boringssl" in lower:
        return "BoringSSL"
    if sym.startswith("_ZN") or sym.startswith("_ZNK"):
        m = re.match(r"_ZNK?(\d+)", sym)
        if m:
            n = int(m.group(1))
            return "C++ " + sym[len(m.group(0)):len(m.group(0)) + n]
    if sym.startswith("_Z"):
        return "C++"
    return "C: " + sym.split("_")[0][:24] if "_" in sym[1:] else "C"


def symbols(binary):
    out = []
    text = subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True, text=True).stdout
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out.append((int(parts[0], 16), parts[2]))
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    top = 15
    if "--top" in sys.argv:
        top = int(sys.argv[sys.argv.index("--top") + 1])
        args = [a for a in args if a != str(top)]
    pid = int(args[0])
    exe = os.readlink(f"/proc/{pid}/exe")
    binary = args[1] if len(args) > 1 else exe
    by_kind = collections.Counter()
    by_section = collections.Counter()
    by_module = collections.Counter()
    secs = sections(binary)
    syms = symbols(binary)
    sym_addrs = [a for a, _ in syms]
    loads = load_segments(binary)
    import bisect

    for start, end, perms, offset, path in maps(pid):
        pages = resident_pages(pid, start, end)
        kb = len(pages) * PAGE // 1024
        if not pages:
            continue
        if path == exe or (path and os.path.basename(path) == os.path.basename(exe)):
            for va in pages:
                file_off = offset + (va - start)
                vaddr = None
                for seg_off, seg_vaddr, seg_size in loads:
                    if seg_off <= file_off < seg_off + max(seg_size, 1):
                        vaddr = seg_vaddr + (file_off - seg_off)
                        break
                if vaddr is None:  # .bss-like (no file bytes): use the last segment
                    seg_off, seg_vaddr, _ = loads[-1]
                    vaddr = seg_vaddr + (file_off - seg_off)
                name = "(between sections)"
                for s0, s1, sname in secs:
                    if s0 <= vaddr < s1 or (s0 < vaddr + PAGE and s1 > vaddr):
                        name = sname
                        break
                by_section[f"binary {name} ({'w' if 'w' in perms else 'r'}{'x' if 'x' in perms else '-'})"] += PAGE // 1024
                i = bisect.bisect_right(sym_addrs, vaddr + PAGE - 1) - 1
                mod = module_of(syms[i][1]) if i >= 0 and name in (".text", ".rodata", ".data", ".data.rel.ro", ".bss") else name
                by_module[mod] += PAGE // 1024
            by_kind["binary (file-backed + relocated)"] += kb
        elif path == "[heap]":
            by_kind["heap (brk)"] += kb
        elif path.startswith("[stack"):
            by_kind["main stack"] += kb
        elif path.startswith("["):
            by_kind[path] += kb
        elif path:
            by_kind["file " + os.path.basename(path)] += kb
        else:
            by_kind["anonymous (malloc arenas, thread stacks)"] += kb

    total = sum(by_kind.values())
    print(f"resident pages of pid {pid} ({exe}): {total} kB")
    for k, v in by_kind.most_common():
        print(f"  {v:8d} kB  {k}")
    print("binary, by section:")
    for k, v in by_section.most_common(top):
        print(f"  {v:8d} kB  {k}")
    print("binary, by owning module (nearest symbol below the page):")
    for k, v in by_module.most_common(top):
        print(f"  {v:8d} kB  {k}")


if __name__ == "__main__":
    main()
