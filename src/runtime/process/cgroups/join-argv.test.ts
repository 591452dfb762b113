// The join wrapper with plain files standing in for cgroup.procs, so it runs anywhere; joining real
// cgroups is in cgroup-manager.test.ts. The OOM score it sets is this process's own to raise, so
// that runs anywhere too; lowering one is refused here on purpose (CAP_SYS_RESOURCE dropped).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { JOIN_ARGV0, JOIN_FAILED_EXIT_CODE, joinThenExecArgv, type JoinOptions } from './join-argv.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-join-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(files: string[], command: string[], opts: JoinOptions = {}, prefix: string[] = []) {
  const [file, ...args] = [...prefix, ...joinThenExecArgv(files, command, opts)];
  return spawnSync(file!, args, { encoding: 'utf8' });
}

/** This process's oom_score_adj: what a child inherits. */
const inherited = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));

test('the pid written into every file is the command’s own: the shell execs it in place', () => {
  const files = ['memory', 'cpu', 'pids'].map((n) => path.join(dir, `${n}.procs`));
  for (const f of files) writeFileSync(f, '');
  const out = run(files, ['sh', '-c', 'echo $$']);
  assert.equal(out.status, 0, out.stderr);
  for (const f of files) assert.equal(readFileSync(f, 'utf8').trim(), out.stdout.trim());
});

test('arguments reach the command byte for byte: nothing is expanded, split or globbed', () => {
  const args = ['a b', '$HOME', '"; echo injected', '*', '', '--', "it's", '\\n'];
  const out = run([], ['printf', '[%s]\\n', ...args]);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout, args.map((a) => `[${a}]\n`).join(''));
});

test('a file that cannot be written stops the wrapper with 125 before the command runs', () => {
  const out = run([path.join(dir, 'no-such-dir', 'cgroup.procs')], ['sh', '-c', 'echo ran']);
  assert.equal(out.status, JOIN_FAILED_EXIT_CODE);
  assert.equal(out.stdout, '');
  assert.match(out.stderr, /cannot join cgroup: .*no-such-dir\/cgroup\.procs/);
});

test('a command that does not exist is a 127 exit with the shell’s message, not a spawn error: resolve it before spawning', () => {
  const out = run([], ['/nonexistent/command']);
  assert.equal(out.status, 127);
  assert.match(out.stderr, /nonexistent\/command/);
});

test('an empty command is refused', () => {
  assert.throws(() => joinThenExecArgv([], []), /empty command/);
});

test('the argv: the score or `-`, the number of files, the files, the command as given', () => {
  const [shell, c, , argv0, ...rest] = joinThenExecArgv(['/cg/cgroup.procs'], ['sleep', '1'], { oomScoreAdj: -997 });
  assert.deepEqual([shell, c, argv0, ...rest], ['/bin/sh', '-c', JOIN_ARGV0, '-997', '1', '/cg/cgroup.procs', 'sleep', '1']);
  assert.deepEqual(joinThenExecArgv([], ['true'], { shell: '/bin/dash' }).filter((_, i) => i !== 2), ['/bin/dash', '-c', JOIN_ARGV0, '-', '0', 'true']);
  assert.throws(() => joinThenExecArgv([], ['true'], { oomScoreAdj: 1001 }), /not in \[-1000, 1000\]/);
  assert.throws(() => joinThenExecArgv([], ['true'], { oomScoreAdj: 1.5 }), /not in/);
});

test('the OOM score is the command’s from its first instruction, and what it forks first inherits it', () => {
  const target = Math.min(1000, inherited + 7);
  const files = [path.join(dir, 'oom.procs')];
  writeFileSync(files[0]!, '');
  // `cat` is a child forked at once: it reads its own score, inherited from the command.
  const out = run(files, ['sh', '-c', 'cat /proc/self/oom_score_adj; echo $$'], { oomScoreAdj: target });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stderr, '');
  const [score, pid] = out.stdout.trim().split('\n');
  assert.equal(Number(score), target);
  assert.equal(readFileSync(files[0]!, 'utf8').trim(), pid, 'the cgroup is joined as before');
});

test('without a score the command keeps the one it inherits', () => {
  const out = run([], ['cat', '/proc/self/oom_score_adj']);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(Number(out.stdout), inherited);
});

test('a score the kernel refuses (lowering it without CAP_SYS_RESOURCE) still runs the command, with the inherited score and one line on stderr', { skip: inherited <= -1000 && 'this process’s score cannot go lower' }, (t) => {
  // As root the capability is dropped from the bounding set, so the wrapper (and cat) run without it.
  // The floor, -1000, is refused then (unless a privileged process once set it for us).
  const asRoot = process.getuid?.() === 0;
  if (asRoot && !existsSync('/usr/bin/setpriv')) return t.skip('no /usr/bin/setpriv to drop CAP_SYS_RESOURCE with');
  const prefix = asRoot ? ['/usr/bin/setpriv', '--bounding-set=-sys_resource', '--'] : [];
  const out = run([], ['cat', '/proc/self/oom_score_adj'], { oomScoreAdj: -1000 }, prefix);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(Number(out.stdout), inherited);
  assert.equal(out.stderr, `${JOIN_ARGV0}: cannot set oom_score_adj to -1000, keeping ${inherited}\n`);
});
