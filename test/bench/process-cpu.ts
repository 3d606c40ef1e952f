/**
 * CPU time of process trees and of the whole machine, read from /proc (Linux; elsewhere every figure is null), so a
 * benchmark can say who used the cores while it measured: the process under test, its neighbours, or someone else.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  ppid: number;
  cpuTicks: number;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function readProcs(): Map<number, ProcStat> {
  const procs = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(name), {
        ppid: Number(fields[1]),
        cpuTicks: Number(fields[11]) + Number(fields[12]),
      });
    } catch {
      // The process ended while the list was read.
    }
  }
  return procs;
}

/** Busy and total jiffies of all cores together (/proc/stat's first line). */
function readMachine(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const numbers = values.map(Number);
  const total = numbers.reduce((sum, value) => sum + value, 0);
  const idle = (numbers[3] ?? 0) + (numbers[4] ?? 0);
  return { busy: total - idle, total };
}

export interface CpuSnapshot {
  at: number;
  procs: Map<number, ProcStat>;
  machine: { busy: number; total: number };
}

export function cpuSnapshot(): CpuSnapshot | null {
  if (process.platform !== 'linux') return null;
  try {
    return { at: Date.now(), procs: readProcs(), machine: readMachine() };
  } catch {
    return null;
  }
}

function descendants(procs: Map<number, ProcStat>, root: number): Set<number> {
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, stat] of procs) {
      if (!tree.has(pid) && tree.has(stat.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}

export interface CpuUse {
  /** CPU milliseconds of each named process tree between the snapshots. */
  byTree: Record<string, number>;
  /** Other descendants of this process (a browser, say), and this process itself. */
  otherChildrenMs: number;
  benchProcessMs: number;
  /** The whole machine: busy share of all cores, and how many cores that is. */
  machineBusyPct: number;
  machineBusyCores: number;
  /** What the machine spent on processes that are not this benchmark's (other work on a shared machine). */
  notOursMs: number;
  /** The same per wall-clock millisecond: how many cores others kept busy meanwhile. */
  notOursCores: number;
  wallMs: number;
}

/** CPU used between two snapshots by the trees rooted at `roots`, the rest of this process's children and others. */
export function cpuUse(before: CpuSnapshot | null, after: CpuSnapshot | null, roots: Record<string, number>) {
  if (!before || !after) return null;
  const ms = (ticks: number) => Math.round((ticks / ticksPerSecond()) * 1000);
  const delta = (pid: number) =>
    (after.procs.get(pid)?.cpuTicks ?? 0) - (before.procs.get(pid)?.cpuTicks ?? 0);
  const counted = new Set<number>();
  const byTree: Record<string, number> = {};
  for (const [name, root] of Object.entries(roots)) {
    let ticks = 0;
    for (const pid of descendants(after.procs, root)) {
      counted.add(pid);
      ticks += delta(pid);
    }
    byTree[name] = ms(ticks);
  }
  let other = 0;
  for (const pid of descendants(after.procs, process.pid)) {
    if (pid === process.pid || counted.has(pid)) continue;
    counted.add(pid);
    other += delta(pid);
  }
  const bench = delta(process.pid);
  counted.add(process.pid);
  const busy = after.machine.busy - before.machine.busy;
  const total = after.machine.total - before.machine.total;
  let ours = 0;
  for (const pid of counted) ours += delta(pid);
  const cores = total > 0 ? (busy / total) * coreCount() : 0;
  const wallMs = after.at - before.at;
  const notOursMs = Math.max(0, ms(busy - ours));
  return {
    byTree,
    otherChildrenMs: ms(other),
    benchProcessMs: ms(bench),
    machineBusyPct: total > 0 ? Math.round((busy / total) * 100) : 0,
    machineBusyCores: Math.round(cores * 100) / 100,
    notOursMs,
    notOursCores: wallMs > 0 ? Math.round((notOursMs / wallMs) * 100) / 100 : 0,
    wallMs,
  } satisfies CpuUse;
}

function coreCount(): number {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  return lines.filter((line) => /^cpu\d+ /.test(line)).length || 1;
}
