// What a server process costs, read from Linux's /proc: CPU seconds (utime + stime of /proc/<pid>/stat, in clock
// ticks, which include the time of threads that have exited) and memory (VmRSS now, VmHWM the kernel's peak since
// the process started; the peak cannot be reset, so a sampler also records the highest VmRSS seen during a test).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { secondsSince } from './stats.ts';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds the process (or, with `tid`, one of its threads) has used so far. */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]); // field 14
  const stime = Number(rest[12]); // field 15
  return (utime + stime) / clockTicks();
}

export interface Memory {
  rssMiB: number;
  hwmMiB: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  };
  return { rssMiB: kib('VmRSS'), hwmMiB: kib('VmHWM') };
}

export interface Usage {
  cpuSeconds: number;
  /** Of which the main thread's (the event loop of Berth; one goroutine thread of many for distribution). */
  mainThreadCpuSeconds: number;
  /** Highest VmRSS sampled while the measurement ran (and at its start and end). */
  rssMaxMiB: number;
  /** VmHWM when the measurement ended: the process's peak since it started. */
  hwmMiB: number;
  samples: number;
}

/** Starts measuring a process: CPU at start and end, VmRSS sampled every `intervalMs`. */
export function measureProcess(pid: number, intervalMs = 50): { stop: () => Usage } {
  const cpu0 = cpuSeconds(pid);
  const main0 = cpuSeconds(pid, pid);
  let rssMax = memory(pid).rssMiB;
  let samples = 1;
  const timer = setInterval(() => {
    try {
      rssMax = Math.max(rssMax, memory(pid).rssMiB);
      samples++;
    } catch {
      /* the process has gone; stop() reports it */
    }
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      const m = memory(pid);
      return {
        cpuSeconds: cpuSeconds(pid) - cpu0,
        mainThreadCpuSeconds: cpuSeconds(pid, pid) - main0,
        rssMaxMiB: Math.max(rssMax, m.rssMiB),
        hwmMiB: m.hwmMiB,
        samples: samples + 1,
      };
    },
  };
}

/** Machine-wide CPU counters from /proc/stat: busy and total jiffies over all cores. */
function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** How many cores the whole machine kept busy (everything: servers, clients, other users) while it ran. */
function measureMachine(cores: number): { stop: () => number } {
  const a = machineJiffies();
  return {
    stop: () => {
      const b = machineJiffies();
      const total = b.total - a.total;
      return total > 0 ? ((b.busy - a.busy) / total) * cores : 0;
    },
  };
}

/** What one measured phase took: its wall time, the server's usage, and the cores the whole machine kept busy. */
export interface Phase {
  seconds: number;
  usage: Usage;
  machineBusyCores: number;
}

/** Runs `fn` while measuring the server process `pid` and the whole machine (of `cores` cores). */
export async function phase<T>(pid: number, fn: () => Promise<T>, cores = os.availableParallelism()): Promise<{ value: T } & Phase> {
  const machine = measureMachine(cores);
  const server = measureProcess(pid);
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: secondsSince(t0), usage: server.stop(), machineBusyCores: machine.stop() };
}
