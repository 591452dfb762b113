// Joining a container's cgroup before its command runs. Node cannot run code in a child between fork
// and exec, so the child is first a shell that writes its own pid into each cgroup.procs file and
// then execs the command in the same process: the command's first instruction already runs inside
// the cgroup, and so does every process it forks. (Writing the pid from nodelet after spawn leaves a
// window in which the command runs, allocates and forks outside its limits.) runc does the same
// dance in its init process before execve.

/** The exit code of the wrapper when it cannot join a cgroup (as `env`, `nohup`, `timeout` use 125 for their own failure). */
export const JOIN_FAILED_EXIT_CODE = 125;

/** The wrapper's `$0`, which the shell puts in front of its own error messages. */
export const JOIN_ARGV0 = 'nodelet-cgroup-join';

// $1 is the number of files, then the files, then the command. `echo $$ > f` writes the shell's pid,
// which exec keeps for the command. A failed exec exits 127 (not found) or 126 (not executable) with
// the shell's message on stderr, as a shell reports it.
const SCRIPT = [
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do',
  `  echo $$ > "$1" || { echo "${JOIN_ARGV0}: cannot join cgroup: $1" >&2; exit ${JOIN_FAILED_EXIT_CODE}; }`,
  '  shift; n=$((n - 1))',
  'done',
  'exec "$@"',
].join('\n');

/**
 * The argv that runs `command` inside a cgroup from its first instruction: `/bin/sh -c <script>
 * nodelet-cgroup-join <n> <cgroup.procs files…> <command…>`. Give it a cgroup's `procsFiles`. The
 * command is exec'd, not resolved, by the shell: nothing of it is interpreted, whatever it contains.
 */
export function joinThenExecArgv(procsFiles: readonly string[], command: readonly string[], shell = '/bin/sh'): string[] {
  if (command.length === 0) throw new Error('joinThenExecArgv: empty command');
  return [shell, '-c', SCRIPT, JOIN_ARGV0, String(procsFiles.length), ...procsFiles, ...command];
}
