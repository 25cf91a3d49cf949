/**
 * What the benchmarks read from Linux's /proc: CPU time and resident memory
 * of a process, and a description of the machine. Linux only (proc(5)).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat's utime/stime (usually 100). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * User + system CPU time a process used so far (ms), from /proc/<pid>/stat
 * fields 14 and 15 (after the parenthesised command name, which may hold
 * spaces). Returns NaN when the process is gone.
 */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Resident set size of a process (bytes), from /proc/<pid>/status VmRSS; NaN when gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** A CPU-time meter over a set of pids: `percent()` is % of one core since the last `start()`. */
export class CpuMeter {
  private t0 = 0;
  private base = new Map<number, number>();
  constructor(private readonly pids: () => number[]) {}

  start(): void {
    this.t0 = performance.now();
    this.base = new Map(this.pids().map((p) => [p, cpuMs(p)]));
  }

  /** Per pid: % of one core used since start() (pids that appeared later are left out). */
  percent(): Map<number, number> {
    const wall = performance.now() - this.t0;
    const out = new Map<number, number>();
    for (const [pid, before] of this.base) out.set(pid, (100 * (cpuMs(pid) - before)) / wall);
    return out;
  }
}

/** "2 × AMD EPYC, 23.5 GiB RAM, Linux 6.1, Node v20.19.0": the machine line of every report. */
export function machineInfo(): string {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // not Linux: os.cpus() it is
  }
  const ram = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${os.availableParallelism()} × ${model.trim()}, ${ram} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

export const median = (xs: number[]): number => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The q-quantile (0…1) of xs (nearest rank); NaN when empty. */
export const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};

/** A table cell: fixed decimals, or "–" for NaN/undefined. */
export const fmt = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));

/** Every descendant of `root` (children, their children, …), from the ppid in /proc/<pid>/stat. */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) if (ppid === pid) (out.push(child), walk(child));
  };
  walk(root);
  return out;
}

/** A process's argv (NUL-separated /proc/<pid>/cmdline), [] when gone. */
export function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * CPU time (ms) of each thread name of `pid` (/proc/<pid>/task/<tid>/comm,
 * at most 15 characters), summed over the threads that share a name; empty
 * when the process is gone.
 */
export function threadsCpuByName(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(comm, (out.get(comm) ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK);
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // gone
  }
  return out;
}

/** CPU time (ms) the whole machine spent busy so far, all cores (/proc/stat's "cpu" line, minus idle and iowait). */
export function machineBusyMs(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const busy = f.slice(0, 8).reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0);
  return (busy * 1000) / CLK_TCK;
}
