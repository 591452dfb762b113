// The join wrapper with plain files standing in for cgroup.procs, so it runs anywhere; joining real
// cgroups is in cgroup-manager.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { JOIN_FAILED_EXIT_CODE, joinThenExecArgv } from './join-argv.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-join-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(files: string[], command: string[]) {
  const [file, ...args] = joinThenExecArgv(files, command);
  return spawnSync(file!, args, { encoding: 'utf8' });
}

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
