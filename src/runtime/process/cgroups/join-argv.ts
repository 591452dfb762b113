// Joining a container's cgroup before its command runs. Node cannot run code in a child between fork
// and exec, so the child is first a shell that writes its own pid into each cgroup.procs file and
// then execs the command in the same process: the command's first instruction already runs inside
// the cgroup, and so does every process it forks. (Writing the pid from nodelet after spawn leaves a
// window in which the command runs, allocates and forks outside its limits.) runc does the same
// dance in its init process before execve. The container's oom_score_adj is set the same way, for
// the same reason: a value written from outside after the spawn would miss what the command forked
// first (runc writes it for its init before the exec too).

/** The exit code of the wrapper when it cannot join a cgroup (as `env`, `nohup`, `timeout` use 125 for their own failure). */
export const JOIN_FAILED_EXIT_CODE = 125;

/** The wrapper's `$0`, which the shell puts in front of its own error messages. */
export const JOIN_ARGV0 = 'nodelet-cgroup-join';

// $1 is the oom_score_adj to set, or `-` to leave it; $2 the number of files, then the files, then the
// command. Nothing here forks: echo and read are builtins. `echo $$ > f` writes the shell's pid, which
// exec keeps for the command, as it keeps the score. A score the kernel refuses (EACCES: lowering it
// needs CAP_SYS_RESOURCE) does not stop the container: it runs with the score it inherited, and one
// line on its stderr says so (the runtime asks only for what it expects to be allowed, so the line
// means something unexpected). A failed exec exits 127 (not found) or 126 (not executable) with the
// shell's message on stderr, as a shell reports it.
const SCRIPT = [
  'if [ "$1" != - ] && ! { echo "$1" > /proc/self/oom_score_adj; } 2>/dev/null; then',
  '  read -r kept < /proc/self/oom_score_adj',
  `  echo "${JOIN_ARGV0}: cannot set oom_score_adj to $1, keeping $kept" >&2`,
  'fi',
  'n=$2; shift 2',
  'while [ "$n" -gt 0 ]; do',
  `  echo $$ > "$1" || { echo "${JOIN_ARGV0}: cannot join cgroup: $1" >&2; exit ${JOIN_FAILED_EXIT_CODE}; }`,
  '  shift; n=$((n - 1))',
  'done',
  'exec "$@"',
].join('\n');

/** What the wrapper does before it execs the command. */
export interface JoinOptions {
  /** The oom_score_adj to give the command (-1000…1000); undefined leaves the one it inherits. */
  oomScoreAdj?: number;
  shell?: string;
}

/**
 * The argv that runs `command` inside a cgroup, with its OOM score, from its first instruction:
 * `/bin/sh -c <script> nodelet-cgroup-join <oom_score_adj|-> <n> <cgroup.procs files…> <command…>`.
 * Give it a cgroup's `procsFiles`, or none for the OOM score alone. The command is exec'd, not
 * resolved, by the shell: nothing of it is interpreted, whatever it contains.
 */
export function joinThenExecArgv(procsFiles: readonly string[], command: readonly string[], opts: JoinOptions = {}): string[] {
  if (command.length === 0) throw new Error('joinThenExecArgv: empty command');
  const adj = opts.oomScoreAdj;
  if (adj !== undefined && !(Number.isInteger(adj) && adj >= -1000 && adj <= 1000)) throw new Error(`joinThenExecArgv: oom_score_adj ${adj} is not in [-1000, 1000]`);
  return [opts.shell ?? '/bin/sh', '-c', SCRIPT, JOIN_ARGV0, adj === undefined ? '-' : String(adj), String(procsFiles.length), ...procsFiles, ...command];
}
