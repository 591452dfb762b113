import { readFile } from 'node:fs/promises';

/**
 * The start time of process `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or
 * undefined when there is no such process. A pid alone is not an identity: pids are reused, and after
 * a restart "pid 4242 is alive" may be someone else's process. Pid + start time is.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  return (await statFields(pid))?.[19];
}

/** The process group of `pid` (field 5 of /proc/<pid>/stat), or undefined when there is no such process. */
export async function processGroup(pid: number): Promise<number | undefined> {
  const f = await statFields(pid);
  return f ? Number(f[2]) : undefined;
}

/** Fields 3… of /proc/<pid>/stat (index 0 = field 3), or undefined for no process or a zombie. */
async function statFields(pid: number): Promise<string[] | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); a zombie has exited, only its exit status is left.
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields;
}
