#!/usr/bin/env python3
"""tools/bench xds: weft-control with N simulated proxies (tools/xds_load:
one ADS stream each, every proxy a distinct node), one HTTPRoute edit, and the
time until every stream has received and ACKed the new routes; plus the
control plane's RSS and CPU time. Target: 1,000 proxies in under 1 s."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from harness import ROOT, ControlPlane, fixture  # noqa: E402


def proc_stats(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open("/proc/%d/status" % pid) as f:
        rss = next(line.split()[1] for line in f if line.startswith("VmRSS"))
    return cpu_s, int(rss)


def main():
    work = tempfile.mkdtemp(prefix="weft-bench-xds-")
    config = os.path.join(work, "config")
    os.mkdir(config)
    with open(os.path.join(config, "mesh.yaml"), "w") as f:
        f.write(fixture("canary/mesh.yaml", port=8080))
    route = os.path.join(config, "route.yaml")
    with open(route, "w") as f:
        f.write(fixture("canary/route.yaml", v1=90, v2=10))
    control = ControlPlane(config, debounce_ms=100)
    load = os.path.join(ROOT, "bazel-bin/tools/xds_load/xds_load")
    weights = iter([(50, 50), (10, 90), (60, 40), (30, 70)])
    print("weft-control, debounce 100 ms (included in the figures)")
    try:
        for proxies, mode in [(100, "sotw"), (1000, "sotw"), (100, "delta"), (1000, "delta")]:
            new = os.path.join(work, "route-new.yaml")
            with open(new, "w") as f:
                f.write(fixture("canary/route.yaml", **dict(zip(("v1", "v2"), next(weights)))))
            cpu_before, _ = proc_stats(control.proc.pid)
            args = [load, "--target", "127.0.0.1:%d" % control.xds_port, "--proxies", str(proxies),
                    "--edit", route, "--content", new] + (["--delta"] if mode == "delta" else [])
            out = subprocess.run(args, capture_output=True, text=True, timeout=180)
            cpu_after, rss = proc_stats(control.proc.pid)
            for line in out.stdout.strip().splitlines():
                print("  " + line)
            print("  control plane: RSS %d kB, CPU %.2f s for this run" % (rss, cpu_after - cpu_before))
    finally:
        control.stop()


if __name__ == "__main__":
    main()
