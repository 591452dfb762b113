import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Container } from '../api/types.js';
import type { Runtime } from '../runtime/types.js';
import { execProbe, expandProbeCommand } from './exec-probe.js';
import { runProbe } from './run-probe.js';
import { startProcessContainer, waitFor } from './testing.js';

let ctr: { runtime: Runtime; containerId: string; dir: string; close(): Promise<void> };

before(async () => {
  ctr = await startProcessContainer([{ name: 'GREETING', value: 'hi' }]);
});
after(() => ctr.close());

test('exit 0 is success; the command runs with the container environment and working directory', async () => {
  const r = await execProbe(ctr.runtime, ctr.containerId, ['sh', '-c', 'echo $GREETING; pwd'], 1);
  assert.deepEqual(r, { result: 'success', output: `hi\n${ctr.dir}\n` });
});

test('a non-zero exit is a failure with stdout and stderr as output', async () => {
  const r = await execProbe(ctr.runtime, ctr.containerId, ['sh', '-c', 'echo out; echo err >&2; exit 3'], 1);
  assert.deepEqual(r, { result: 'failure', output: 'out\nerr\n' });
});

test('a command past the timeout is killed and the probe fails as "timed out"', async () => {
  const pidFile = path.join(ctr.dir, 'pid');
  const marker = path.join(ctr.dir, 'finished');
  const started = Date.now();
  const cmd = ['sh', '-c', `echo $$ > ${pidFile}; sleep 3; touch ${marker}`];
  const r = await execProbe(ctr.runtime, ctr.containerId, cmd, 1);
  const elapsed = Date.now() - started;
  assert.deepEqual(r, { result: 'failure', output: `command "sh -c echo $$ > ${pidFile}; sleep 3; touch ${marker}" timed out` });
  assert.ok(elapsed >= 900 && elapsed < 2500, `took ${elapsed} ms`);
  // The shell (and its sleep) are gone, well before the sleep would have ended.
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await waitFor(() => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 'the timed-out command to be gone', 1000);
  assert.equal(existsSync(marker), false);
});

test('exec in a container that is not running is a prober error, not a failure', async () => {
  const r = await execProbe(ctr.runtime, 'no-such-container', ['true'], 1);
  assert.equal(r.result, 'unknown');
});

test('probe commands expand $(VAR) from literal env values only', () => {
  const c: Container = {
    name: 'main',
    env: [
      { name: 'PORT', value: '8080' },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    ],
  };
  assert.deepEqual(expandProbeCommand(['check', '--port=$(PORT)', '$(NODE)', '$$(PORT)'], c), ['check', '--port=8080', '$(NODE)', '$(PORT)']);
});

test('runProbe dispatches an exec probe with its timeout', async () => {
  const c: Container = { name: 'main', env: [{ name: 'CODE', value: '4' }] };
  const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [c] } };
  const target = { pod, container: c, containerId: ctr.containerId, runtime: ctr.runtime, podIP: '127.0.0.1' };
  assert.deepEqual(await runProbe({ exec: { command: ['sh', '-c', 'exit $(CODE)'] } }, target, 1), { result: 'failure', output: '' });
  assert.deepEqual(await runProbe({}, target, 1), { result: 'unknown', error: 'missing probe handler for web_default(u1):main' });
});
