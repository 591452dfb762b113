/**
 * Reading /proc: new processes (to see a container start without asking the agent), and a process's
 * memory and CPU time. Linux only.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A process that appeared since the last scan, with its command line (NUL-separated, as in /proc). */
export interface NewProcess {
  pid: number;
  cmdline: string;
}

/** The /proc/<pid>/cmdline of `sleep <marker>`. */
export function sleepCmdline(marker: string): string {
  return `sleep\0${marker}\0`;
}

export function readCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return undefined; // gone
  }
}

function listPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

/**
 * The command a launcher process will exec in the end, or undefined when `cmdline` is not a launcher:
 * nodelet's process runtime may start a container inside bubblewrap (`bwrap <options> -- <command>`);
 * bwrap's monitor and its init keep bwrap's command line, and the command's own process shows it too
 * until its exec.
 */
function launchedCommand(cmdline: string): string | undefined {
  const argv0 = cmdline.slice(0, cmdline.indexOf('\0'));
  if (argv0 !== 'bwrap' && !argv0.endsWith('/bwrap')) return undefined;
  const i = cmdline.indexOf('\0--\0');
  return i < 0 ? undefined : cmdline.slice(i + 4);
}

/**
 * Finds processes that were not there at the previous scan. Only /proc entries not seen before are read,
 * so a scan costs one readdir of /proc plus one small read per new process.
 *
 * A child forked by the agent but not yet exec'd still shows the agent's command line: such pids (and
 * empty command lines of a process being set up) stay pending and are read again at the next scan, so
 * the exec is seen at the first scan after it happens. So do the processes of a launcher (bwrap) until
 * the command it launches has been found.
 */
export class ProcScanner {
  private seen = new Set<number>();
  /** Pids read again at each scan; the value is the command a launcher pid waits for, if it is one. */
  private pending = new Map<number, string | undefined>();
  private first = true;

  /** `isPreExec(cmdline)`: true for the command line a fork of the agent shows before its exec. */
  /** The first {@link scan} reports every process: call it once to start from "now". */
  constructor(private readonly isPreExec: (cmdline: string) => boolean) {}

  /** Processes that appeared (or finished their exec) since the last scan. */
  scan(): NewProcess[] {
    const found: NewProcess[] = [];
    const next = new Set<number>();
    const pending = new Map<number, string | undefined>();
    for (const pid of listPids()) {
      if (this.seen.has(pid) && !this.pending.has(pid)) {
        next.add(pid);
        continue;
      }
      const cmdline = readCmdline(pid);
      if (cmdline === undefined) continue;
      next.add(pid);
      // An empty cmdline at the first scan is a kernel thread (or a zombie): it never execs, and reading it
      // again at every scan would only make each scan slower.
      // So is the cgroup join wrapper (`sh -c … nodelet-cgroup-join …`): it execs the container (or bwrap) in place.
      if ((cmdline === '' && !this.first) || this.isPreExec(cmdline) || cmdline.includes('\0nodelet-cgroup-join\0')) {
        pending.set(pid, undefined);
        continue;
      }
      const launched = launchedCommand(cmdline);
      if (launched !== undefined) {
        pending.set(pid, launched);
        continue;
      }
      found.push({ pid, cmdline });
    }
    this.first = false;
    // A launcher's processes whose command has been found will not exec it again: stop reading them.
    if (found.length && pending.size) {
      const commands = new Set(found.map((p) => p.cmdline));
      for (const [pid, launched] of pending) if (launched !== undefined && commands.has(launched)) pending.delete(pid);
    }
    // Pids that are gone are forgotten, so a recycled pid counts as new (pid_max may be small).
    this.seen = next;
    this.pending = pending;
    return found;
  }
}

/** VmRSS and its parts (RssAnon: heap and other private memory; RssFile: mapped files such as the node binary), in bytes. */
export function readMemory(pid: number): { rss: number; anon: number; file: number; shmem: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
  } catch {
    return undefined;
  }
}

/** VmRSS of a process in bytes, or undefined if it is gone. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Clock ticks per second (USER_HZ), the unit of {@link readCpuTicks}. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Whether a command is found in PATH (the shell's `command -v`). */
export function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** utime + stime of a process, in clock ticks (USER_HZ), or undefined if it is gone. */
export function readCpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Whether a pid exists (a zombie still does, until its parent reaps it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids whose command line is exactly one of `cmdlines` (a full /proc pass: for cleanup, not timing). */
export function pidsWithCmdline(cmdlines: ReadonlySet<string>): number[] {
  const out: number[] = [];
  for (const pid of listPids()) {
    const c = readCmdline(pid);
    if (c !== undefined && cmdlines.has(c)) out.push(pid);
  }
  return out;
}
