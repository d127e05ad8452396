#!/usr/bin/env python3
"""Appends generated sshd failure lines to an auth log in one write, for the hostile-input
tests (Tests/AgentIntegrationTests/HostileInputBinaryTests.swift). Generated outside the test
process, so building tens of MB of text never blocks the tests' own threads.

Usage: auth_flood.py LOG MODE
  backlog   200,000 lines, each with a new address and a 100-byte tail (over 40 MB)
  flood     300,000 lines from random IPv4 addresses; lines 150,000-150,009 from 198.51.100.77
  crowd     20,000 addresses (10.0.0.0/17) failing 6 times each, interleaved; 198.51.100.77 failing
            50 times in the middle; then a successful login from 10.0.0.1
Prints the number of bytes appended.
"""
import random, sys

path, mode = sys.argv[1], sys.argv[2]
lines = []
if mode == "backlog":
    tail = "x" * 100
    for i in range(200_000):
        lines.append("Nov 30 09:10:27 h sshd[%d]: Failed password for invalid user u%d from 10.%d.%d.%d port 22 ssh2 %s\n"
                     % (1000 + i % 30_000, i, i >> 16 & 255, i >> 8 & 255, i & 255, tail))
elif mode == "crowd":
    for round in range(6):
        for i in range(20_000):
            if round == 3 and i == 10_000:
                lines += ["Nov 30 09:10:27 h sshd[77]: Failed password for root from 198.51.100.77 port 22 ssh2\n"] * 50
            lines.append("Nov 30 09:10:27 h sshd[%d]: Failed password for root from 10.0.%d.%d port 22 ssh2\n"
                         % (1000 + i % 30_000, i >> 8, i & 255))
    lines.append("Nov 30 09:10:28 h sshd[78]: Accepted password for root from 10.0.0.1 port 22 ssh2\n")
else:
    for i in range(300_000):
        ip = "198.51.100.77" if 150_000 <= i < 150_010 else "%d.%d.%d.%d" % (
            random.randint(1, 223), random.randint(0, 255), random.randint(0, 255), random.randint(1, 254))
        lines.append("Nov 30 09:10:27 h sshd[%d]: Failed password for root from %s port 22 ssh2\n" % (1000 + i % 30_000, ip))
data = "".join(lines).encode()
with open(path, "ab") as f:
    f.write(data)
sys.stdout.write("%d\n" % len(data))
sys.stdout.flush()
