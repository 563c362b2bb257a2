#!/usr/bin/env python3
"""Run a command and say where the machine's CPU went while it ran.

  cpu.py OUT CMD [ARG...]

Writes one line to OUT:
  wall=S cmd=S postgres=S dovecot=S other=S idle=S peak_kb=K rc=N
wall in seconds; cmd the CPU seconds (user + system) of CMD and its
children; postgres and dovecot the CPU seconds of every process of that
name (a backend that exits is counted through its parent, the postmaster,
which reaps it); other the rest of the machine's busy time; idle the
seconds of the machine's cores that nothing used.  Reads /proc only;
Linux.  CMD's standard output and error go to OUT.out and OUT.err.  The
processes are read 0.3 s after CMD ended, so that the server processes
that served it have exited and been reaped.  With CPU_PG_PID set (the
postmaster's pid), only that server's processes count as postgres (the
machine may run other clusters): the rest count as other.
"""
import os
import resource
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def procs():
    """CPU ticks (own + reaped children) of every process, by pid."""
    d = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        d[p] = (comm, sum(int(x) for x in f[11:15]), f[1])
    return d


def machine():
    """(busy, idle) ticks of all cores."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, idle


def group(comm, pid, ppid):
    if comm.startswith("postgres") or comm.startswith("postmaster"):
        pm = os.environ.get("CPU_PG_PID")
        if pm and pm not in (pid, ppid):
            return "other"
        return "postgres"
    if comm in ("dovecot", "imap", "imap-login", "anvil", "log",
                "config", "auth", "stats"):
        return "dovecot"
    return "other"


def main():
    out, cmd = sys.argv[1], sys.argv[2:]
    a, (b0, i0) = procs(), machine()
    t = time.monotonic()
    with open(out + ".out", "w") as o, open(out + ".err", "w") as e:
        rc = subprocess.run(cmd, stdout=o, stderr=e).returncode
    wall = time.monotonic() - t
    b1, i1 = machine()
    # Let the server processes that served CMD exit and be reaped: their
    # time then shows in their parent's.
    time.sleep(0.3)
    b = procs()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = ru.ru_utime + ru.ru_stime
    g = {"postgres": 0, "dovecot": 0}
    for p, (comm, ticks, ppid) in b.items():
        d = ticks - (a[p][1] if p in a and a[p][0] == comm else 0)
        k = group(comm, p, ppid)
        if k in g and d > 0:
            g[k] += d
    pg, dc = g["postgres"] / HZ, g["dovecot"] / HZ
    busy = (b1 - b0) / HZ
    other = max(0.0, busy - mine - pg - dc)
    with open(out, "w") as f:
        f.write("wall=%.2f cmd=%.2f postgres=%.2f dovecot=%.2f other=%.2f "
                "idle=%.2f peak_kb=%d rc=%d\n" % (
                    wall, mine, pg, dc, other, (i1 - i0) / HZ,
                    ru.ru_maxrss, rc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
