#!/usr/bin/env python3
"""The agent on a busy host, measured (nothing asserted; figures for docs/BENCHMARKS.md).

  scripts/load-bench.py [--agent BIN] [--prev BIN] [--parts containers,churn,flood] [...]

containers: a private dockerd with N busybox containers each writing 20 lines/s (plus a run
    with a few at 2,000 lines/s): agent CPU % of one core, RSS, descriptors, threads, sockets,
    Docker API requests per cycle, dockerd's CPU, and lines delivered + dropped (per container,
    from /metrics) against lines written (from dockerd's own log store after the containers
    stop). Once with --max-log-entries large enough that nothing drops, once with the default.
churn: containers started and removed one after another; the agent's RSS and descriptors
    before and after.
flood: an auth log growing at RATE lines/s from ADDRESSES addresses; agent CPU, RSS, and the
    time from a marker address's failures being written to BRUTE_FORCE for it at the receiver.
Every part runs each binary given (--agent, then --prev) in the same machine state.
"""
import argparse, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def rss_kb(pid): return int(status(pid)["VmRSS"].split()[0])
def threads(pid): return int(status(pid)["Threads"])


def fds(pid):
    names = os.listdir(f"/proc/{pid}/fd")
    socks = 0
    for n in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{n}").startswith("socket:"): socks += 1
        except OSError:
            pass
    return len(names), socks


def http_get(port, path):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return r.read().decode()


def metrics(port):
    """Prometheus series of the agent: {name{labels}: value}."""
    out = {}
    for line in http_get(port, "/metrics?format=prometheus").splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


class Dockerd:
    def __init__(self, work):
        self.dir = os.path.join(work, "dockerd")
        out = subprocess.run(["bash", f"{ROOT}/scripts/dockerd.sh", "start", self.dir], capture_output=True, text=True, check=True)
        self.pid = int(out.stdout.split()[-1])
        self.sock = self.dir + "/docker.sock"

    def cli(self, *args, check=True):
        return subprocess.run(["docker", "-H", "unix://" + self.sock, *args], capture_output=True, text=True, check=check).stdout

    def stop(self):
        subprocess.run(["bash", f"{ROOT}/scripts/dockerd.sh", "stop", self.dir], capture_output=True)


def writer_script(rate, tag):
    """A busybox shell writing `rate` lines a second (shell builtins only: one fork a second), each
    numbered, every tenth an access-log line and every hundredth carrying a secret to mask."""
    return ("n=0; while true; do i=0; while [ $i -lt %d ]; do i=$((i+1)); n=$((n+1)); "
            "case $n in *00) echo \"seq=$n %s api_key=sk-live-$n\";; "
            "*0) echo \"10.0.0.1 - - [30/Nov/2026:00:00:00 +0000] \\\"GET /x HTTP/1.1\\\" 200 5 seq=$n\";; "
            "*) echo \"seq=$n %s some ordinary application output\";; esac; done; sleep 1; done") % (rate, tag, tag)


class Run:
    """One agent (and its receiver) against the dockerd or an auth log."""

    def __init__(self, work, binary, name, args, interval):
        self.work = os.path.join(work, name)
        os.makedirs(self.work)
        self.binary = binary
        secret = os.path.join(self.work, "secret")
        with open(secret, "w") as f: f.write("load-bench-secret\n")
        os.chmod(secret, 0o600)
        self.port, self.health = free_port(), free_port()
        self.received = os.path.join(self.work, "received")
        self.receiver = subprocess.Popen([binary, "--secret-file", secret, "receive", "--listen", f"127.0.0.1:{self.port}",
                                          "--data", self.received, "--body-limit", "268435456"],
                                         stdout=subprocess.DEVNULL, stderr=open(self.work + "/receiver.log", "w"))
        self.wait(lambda: "receiver listening" in open(self.work + "/receiver.log").read(), 20, "receiver")
        self.agent = subprocess.Popen([binary, "--server-url", f"http://127.0.0.1:{self.port}/ingest", "--secret-file", secret,
                                       "--health-addr", f"127.0.0.1:{self.health}", "--queue-dir", self.work + "/queue",
                                       "--interval", str(interval)] + args,
                                      stdout=subprocess.DEVNULL, stderr=open(self.work + "/agent.log", "w"))
        self.wait(lambda: self.healthz() is not None, 20, "agent /healthz")

    @staticmethod
    def wait(cond, seconds, what):
        end = time.time() + seconds
        while time.time() < end:
            try:
                if cond(): return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"timed out waiting for {what}")

    def healthz(self):
        try:
            return json.loads(http_get(self.health, "/healthz"))
        except Exception:
            return None

    def payloads(self):
        path = self.received + "/payloads.jsonl"
        if not os.path.exists(path): return []
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def sample(self):
        pid = self.agent.pid
        n, socks = fds(pid)
        st = status(pid)
        return {"ticks": cpu_ticks(pid), "rss": rss_kb(pid), "anon": int(st["RssAnon"].split()[0]), "file": int(st["RssFile"].split()[0]), "fds": n, "sockets": socks, "threads": threads(pid), "t": time.time()}

    def stop(self):
        for p in (self.agent, self.receiver):
            p.send_signal(signal.SIGTERM)
        for p in (self.agent, self.receiver):
            try: p.wait(20)
            except subprocess.TimeoutExpired: p.kill()


def steady(run, dockerd_pid, seconds, interval):
    """CPU over `seconds` (agent and dockerd), peak RSS, and API requests per cycle."""
    m0 = metrics(run.health)
    a0, d0, t0 = run.sample(), cpu_ticks(dockerd_pid), time.time()
    peak = a0["rss"]
    end = t0 + seconds
    while time.time() < end:
        time.sleep(1)
        peak = max(peak, rss_kb(run.agent.pid))
    a1, d1, t1 = run.sample(), cpu_ticks(dockerd_pid), time.time()
    m1 = metrics(run.health)
    span = t1 - t0
    api = m1.get("monitoring_agent_docker_api_requests_total", 0) - m0.get("monitoring_agent_docker_api_requests_total", 0)
    return {"cpu": 100 * (a1["ticks"] - a0["ticks"]) / TICK / span, "dockerd_cpu": 100 * (d1 - d0) / TICK / span,
            "rss_mb": a1["rss"] / 1024, "peak_mb": peak / 1024, "fds": a1["fds"], "sockets": a1["sockets"],
            "threads": a1["threads"], "api_per_cycle": api / (span / interval)}


def containers_part(args, binary, label, dockerd, work):
    interval = args.interval
    rows = []
    scenarios = [(n, 0, True) for n in args.counts] + ([(args.counts[0], args.fast, True)] if args.fast else []) + [(args.counts[-1], 0, False)]
    for n, fast, roomy in scenarios:
        tag = f"{label}-{n}-{fast}-{'all' if roomy else 'default'}"
        # Room for every line: 20,000 lines of 5 s in one payload (and the receiver's --body-limit
        # raised to match).
        extra = ["--max-log-entries", "100000", "--max-payload-bytes", "67108864"] if roomy else []
        run = Run(work, binary, tag, ["--docker-socket", dockerd.sock, "--auth-source", "none", "--tail-lines", "0"] + extra, interval)
        time.sleep(2)
        idle = run.sample()
        names = [f"c{i}-{tag}" for i in range(n)] + [f"f{i}-{tag}" for i in range(fast)]
        rates = {name: (2000 if name.startswith("f") else args.rate) for name in names}

        def start(name):
            dockerd.cli("run", "-d", "--name", name, "test/busybox", "sh", "-c", writer_script(rates[name], name))
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(start, names))
        time.sleep(max(10, 2 * interval))  # every follower attached, a few payloads out
        s = steady(run, dockerd.pid, args.seconds, interval)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda name: dockerd.cli("kill", name, check=False), names))
        time.sleep(3 * interval + 5)  # the last lines and the die events delivered
        m = metrics(run.health)
        written = {}
        with ThreadPoolExecutor(8) as pool:
            for name, out in zip(names, pool.map(lambda name: subprocess.run(
                    ["docker", "-H", "unix://" + dockerd.sock, "logs", name], capture_output=True, text=True).stdout, names)):
                written[name] = sum(1 for l in out.splitlines() if l.startswith("seq=") or "seq=" in l)
        delivered = {}
        masked_ok = True
        for p in run.payloads():
            for l in p.get("logs", []):
                if l["container"] in rates:
                    delivered[l["container"]] = delivered.get(l["container"], 0) + 1
                    if "sk-live-" in l["message"]: masked_ok = False
        dropped = {name: int(m.get(f'monitoring_agent_docker_container_log_lines_dropped_total{{container="{name}"}}', 0)) for name in names}
        tw, td, tx = sum(written.values()), sum(delivered.values()), sum(dropped.values())
        unaccounted = sum(1 for name in names if delivered.get(name, 0) + dropped[name] != written[name])
        quiet = [name for name in names if rates[name] == args.rate]
        quiet_kept = sum(delivered.get(x, 0) for x in quiet) / max(1, sum(written[x] for x in quiet))
        rows.append(dict(label=label, containers=n, fast=fast, entries="100000" if roomy else "default (500)",
                         lines_per_s=sum(rates.values()), idle_mb=idle["rss"] / 1024, **s,
                         per_container_kb=(s["rss_mb"] - idle["rss"] / 1024) * 1024 / len(names),
                         written=tw, delivered=td, dropped=tx, unaccounted=unaccounted, quiet_kept=quiet_kept, masked=masked_ok))
        run.stop()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda name: dockerd.cli("rm", "-f", name, check=False), names))
        r = rows[-1]
        print(f"  {label:8} {r['containers']:4} x {args.rate}/s + {r['fast']} x 2000/s, --max-log-entries {r['entries']}: "
              f"cpu {r['cpu']:.1f}% (dockerd {r['dockerd_cpu']:.1f}%), rss {r['rss_mb']:.1f} MB (peak {r['peak_mb']:.1f}, idle {r['idle_mb']:.1f}), "
              f"{r['per_container_kb']:.1f} KB/container, fds {r['fds']} (sockets {r['sockets']}), threads {r['threads']}, "
              f"API requests/cycle {r['api_per_cycle']:.2f}; lines written {tw}, delivered {td}, dropped+counted {tx}, "
              f"containers unaccounted {unaccounted}, quiet containers' lines kept {100 * quiet_kept:.1f}%, secrets masked {masked_ok}",
              flush=True)
    roomy = [r for r in rows if r["fast"] == 0 and r["entries"] == "100000"]
    if len(roomy) >= 2:
        a, b = roomy[0], roomy[-1]
        print(f"  {label:8} memory per followed container, from {a['containers']} to {b['containers']} containers: "
              f"{(b['rss_mb'] - a['rss_mb']) * 1024 / (b['containers'] - a['containers']):.1f} KB", flush=True)
    return rows


def churn_part(args, binary, label, dockerd, work):
    run = Run(work, binary, f"{label}-churn", ["--docker-socket", dockerd.sock, "--auth-source", "none"], args.interval)

    def one(i, prefix="churn"):
        name = f"{prefix}{i}-{label}"
        dockerd.cli("run", "-d", "--name", name, "test/busybox", "sh", "-c", f"echo start {name}; sleep 2; echo end {name}", check=False)
        time.sleep(3)
        dockerd.cli("rm", "-f", name, check=False)
    # Warm-up: the follower's code and the allocator's arenas are touched once, so "before" is a
    # steady state rather than an agent that never followed a container.
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: one(i, "warm"), range(20)))
    time.sleep(max(3 * args.interval + 5, 35))
    before = run.sample()
    gap = args.churn_seconds / args.churn
    t0 = time.time()
    with ThreadPoolExecutor(16) as pool:
        futures = []
        for i in range(args.churn):
            delay = t0 + i * gap - time.time()
            if delay > 0: time.sleep(delay)
            futures.append(pool.submit(one, i))
        for f in futures: f.result()
    took = time.time() - t0
    time.sleep(max(3 * args.interval + 5, 35))  # past the Docker client's 30 s idle-connection timeout
    after = run.sample()
    m = metrics(run.health)
    starts = sum(1 for p in run.payloads() for e in p.get("docker_events", []) if e["action"] == "start" and e["container"].startswith("churn"))
    run.stop()
    print(f"  {label:8} churn: {args.churn} containers started and removed in {took:.0f} s; starts seen {starts}; "
          f"rss {before['rss'] / 1024:.2f} -> {after['rss'] / 1024:.2f} MB (anonymous {before['anon'] / 1024:.2f} -> {after['anon'] / 1024:.2f}, "
          f"file {before['file'] / 1024:.2f} -> {after['file'] / 1024:.2f}), fds {before['fds']} -> {after['fds']}, "
          f"sockets {before['sockets']} -> {after['sockets']}, threads {before['threads']} -> {after['threads']}, "
          f"per-container series left {sum(1 for k in m if k.startswith('monitoring_agent_docker_container_log_lines_total'))}", flush=True)


def flood_part(args, binary, label, work):
    log = os.path.join(work, f"{label}-auth.log")
    open(log, "w").close()
    run = Run(work, binary, f"{label}-flood", ["--docker-socket", "none", "--auth-source", "file", "--auth-log", log], args.flood_interval)
    time.sleep(2)
    marker = "198.51.100.77"
    rng = random.Random(1)
    addrs = [f"{10 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}.{rng.randrange(1, 255)}" for i in range(args.addresses)]
    state = {"written_at": None, "stop": False}

    def write():
        with open(log, "a", buffering=1 << 20) as f:
            n, t0, i = 0, time.time(), 0
            while time.time() - t0 < args.flood_seconds:
                due = int((time.time() - t0) * args.flood_rate)
                stamp = time.strftime("%b %d %H:%M:%S")
                chunk = []
                while n < due:
                    a = addrs[i % len(addrs)]; i += 1; n += 1
                    chunk.append(f"{stamp} host sshd[{1000 + n % 30000}]: Failed password for invalid user u{n % 97} from {a} port {1024 + n % 60000} ssh2\n")
                if state["written_at"] is None and time.time() - t0 >= args.flood_seconds / 3:
                    chunk += [f"{stamp} host sshd[77]: Failed password for root from {marker} port 4242 ssh2\n"] * 40
                    f.write("".join(chunk)); f.flush(); chunk = []
                    state["written_at"] = time.time()
                if chunk:
                    f.write("".join(chunk)); f.flush()
                time.sleep(0.01)
            state["lines"] = n
    seen = {"at": None}

    def watch():
        # The receiver appends each payload as it is verified: the first line naming the marker
        # is seen here within 0.1 s of its arrival.
        path, offset, pending = run.received + "/payloads.jsonl", 0, b""
        while not state["stop"]:
            if os.path.exists(path):
                with open(path, "rb") as f:
                    f.seek(offset); chunk = f.read(); offset += len(chunk)
                pending += chunk
                if f"BRUTE_FORCE:{marker}".encode() in pending and seen["at"] is None:
                    seen["at"] = time.time()
                pending = pending[-200:]
            time.sleep(0.1)
    w = threading.Thread(target=write); w.start()
    v = threading.Thread(target=watch); v.start()
    time.sleep(1)
    s = steady(run, os.getpid(), args.flood_seconds - 2, args.flood_interval)
    w.join()
    end = time.time() + 3 * args.flood_interval + 10
    while time.time() < end and seen["at"] is None:
        time.sleep(0.2)
    state["stop"] = True
    v.join()
    m = metrics(run.health)
    run.stop()
    latency = seen["at"] - state["written_at"] if seen["at"] and state["written_at"] else None
    alerts = [len(p.get("local_alerts", [])) for p in run.payloads()]
    omitted = max((d.get("omitted", 0) for p in run.payloads() for d in p.get("alerts_detail", [])), default=0)
    print(f"  {label:8} flood: {state.get('lines', 0)} lines in {args.flood_seconds} s ({state.get('lines', 0) / args.flood_seconds:.0f}/s) "
          f"from {args.addresses} addresses: cpu {s['cpu']:.1f}% (the writer {s['dockerd_cpu']:.1f}%), rss {s['rss_mb']:.1f} MB (peak {s['peak_mb']:.1f}), "
          f"marker's failures to BRUTE_FORCE in a payload: {'%.1f s' % latency if latency is not None else 'never'} "
          f"(interval {args.flood_interval} s); alerts per payload up to {max(alerts, default=0)}, omitted up to {omitted}; "
          f"lines read {int(m.get('monitoring_agent_auth_lines_total', 0))}, sources evicted {int(m.get('monitoring_agent_auth_sources_evicted_total', 0))}",
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", default=os.path.join(ROOT, ".build-release/monitoring-agent"))
    ap.add_argument("--prev", help="a previous build, run side by side")
    ap.add_argument("--parts", default="containers,churn,flood")
    ap.add_argument("--counts", default="50,100,200")
    ap.add_argument("--rate", type=int, default=20)
    ap.add_argument("--fast", type=int, default=3, help="containers at 2,000 lines/s in the mixed run")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--interval", type=float, default=5)
    ap.add_argument("--churn", type=int, default=1000)
    ap.add_argument("--churn-seconds", type=float, default=600)
    ap.add_argument("--flood-rate", type=int, default=50000)
    ap.add_argument("--addresses", type=int, default=100000)
    ap.add_argument("--flood-seconds", type=int, default=60)
    ap.add_argument("--flood-interval", type=float, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the work folder (agents' and receivers' logs) and print its path")
    args = ap.parse_args()
    args.counts = [int(x) for x in args.counts.split(",")]
    parts = args.parts.split(",")
    binaries = [("current", args.agent)] + ([("previous", args.prev)] if args.prev else [])
    work = tempfile.mkdtemp(prefix="load-bench.")
    print(f"machine: {os.cpu_count()} cores, {open('/proc/meminfo').readline().split()[1]} kB; interval {args.interval} s; "
          f"binaries: " + ", ".join(f"{l} {b}" for l, b in binaries), flush=True)
    dockerd = Dockerd(work) if {"containers", "churn"} & set(parts) else None
    try:
        for part in parts:
            print(f"{part}:", flush=True)
            for label, binary in binaries:
                if part == "containers": containers_part(args, binary, label, dockerd, work)
                elif part == "churn": churn_part(args, binary, label, dockerd, work)
                elif part == "flood": flood_part(args, binary, label, work)
                else: raise SystemExit(f"unknown part {part}")
    finally:
        if dockerd: dockerd.stop()
        if args.keep: print(f"work folder kept: {work}")
        else: shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
