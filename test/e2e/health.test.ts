import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, marker, Nodelet, pgrep, waitFor } from './harness.js';

function fresh(t: { after: (fn: () => Promise<void>) => void }): Nodelet {
  const n = new Nodelet();
  t.after(() => n.stop());
  return n.start();
}

test('a container whose exec liveness probe starts failing is restarted', async (t) => {
  const n = fresh(t);
  const m = n.track(marker());
  const alive = path.join(n.dir, 'alive');
  writeFileSync(alive, '');
  n.write('live.yaml', `apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    command: ["sleep", "${m}"]
    livenessProbe:
      exec: {command: ["test", "-f", "${alive}"]}
      periodSeconds: 1
      failureThreshold: 2
`);
  const [first] = await waitFor('the container', () => {
    const p = pgrep(`sleep ${m}`);
    return p.length === 1 ? p : undefined;
  });
  rmSync(alive);
  await waitFor('a restart', () => {
    const p = pgrep(`sleep ${m}`);
    return p.length === 1 && p[0] !== first;
  });
  const pod = await waitFor('restartCount 1', async () => {
    const p = await n.pod('live');
    return p?.status?.containerStatuses?.[0]?.restartCount === 1 ? p : undefined;
  });
  assert.ok(pod);
  await n.waitForOutput('probe failed');
});

test('a slow starter protected by a startupProbe is not killed, and becomes Ready through httpGet', async (t) => {
  const n = fresh(t);
  const port = await freePort();
  const served = path.join(n.dir, 'www');
  // Probes go to the pod IP (the host's, on the process runtime), as the kubelet's: bind all addresses.
  // The server comes up after ~3 s: liveness alone (1 s × 2) would kill it, the startup probe waits.
  n.write('slow.yaml', `apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    command: ["sh", "-c", "mkdir -p ${served}; cd ${served}; sleep 3; exec python3 -m http.server ${port}"]
    ports: [{name: http, containerPort: ${port}}]
    startupProbe:
      httpGet: {path: /, port: http}
      periodSeconds: 1
      failureThreshold: 30
    livenessProbe:
      httpGet: {path: /, port: ${port}}
      periodSeconds: 1
      failureThreshold: 2
    readinessProbe:
      httpGet: {path: /ready.txt, port: http}
      periodSeconds: 1
`);
  const cond = async (type: string) => (await n.pod('slow'))?.status?.conditions?.find((c) => c.type === type)?.status;
  await waitFor('the container started (startup probe passed)', async () => (await n.pod('slow'))?.status?.containerStatuses?.[0]?.started === true);
  assert.equal((await n.pod('slow'))!.status!.containerStatuses![0]!.restartCount, 0);
  assert.equal(await cond('Ready'), 'False');
  writeFileSync(path.join(served, 'ready.txt'), 'ok');
  await waitFor('Ready True', async () => (await cond('Ready')) === 'True');
  rmSync(path.join(served, 'ready.txt'));
  await waitFor('Ready False again', async () => (await cond('Ready')) === 'False');
  const st = (await n.pod('slow'))!.status!.containerStatuses![0]!;
  assert.equal(st.restartCount, 0, 'readiness must never restart');
  assert.ok(st.state!.running);
});

test('preStop runs before SIGTERM, and the grace period bounds it', async (t) => {
  const n = fresh(t);
  const m = n.track(marker());
  const trace = path.join(n.dir, 'trace');
  n.write('hook.yaml', `apiVersion: v1
kind: Pod
metadata: {name: hook}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: main
    command: ["sh", "-c", "trap 'echo term >> ${trace}; exit 0' TERM; sleep ${m} & wait"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "echo poststart >> ${trace}"]}
      preStop:
        exec: {command: ["sh", "-c", "echo prestop >> ${trace}; sleep 60"]}
`);
  await waitFor('the container', () => pgrep(`sleep ${m}`).length === 1);
  await waitFor('postStart ran', () => existsSync(trace) && readFileSync(trace, 'utf8').includes('poststart'));
  const t0 = Date.now();
  n.remove('hook.yaml');
  await waitFor('the pod gone', async () => (await n.pods()).length === 0);
  const elapsed = Date.now() - t0;
  const lines = readFileSync(trace, 'utf8').trim().split('\n');
  assert.deepEqual(lines.slice(0, 2), ['poststart', 'prestop']);
  // A 60 s preStop is cut at the 3 s grace period (then at least 2 s more for SIGTERM, as the kubelet).
  assert.ok(elapsed < 30_000, `stop took ${elapsed} ms`);
  await waitFor('everything gone', () => pgrep(`sleep ${m}`).length === 0);
});

test('a failing postStart hook kills the container and records FailedPostStartHook', async (t) => {
  const n = fresh(t);
  const m = n.track(marker());
  n.write('bad-hook.yaml', `apiVersion: v1
kind: Pod
metadata: {name: bad-hook}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    command: ["sleep", "${m}"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "exit 7"]}
`);
  await waitFor('the container killed and restarted at least once', async () => {
    const s = (await n.pod('bad-hook'))?.status?.containerStatuses?.[0];
    return (s?.restartCount ?? 0) >= 1;
  });
  const events = await n.get<{ items: { reason: string }[] }>('/api/v1/namespaces/default/events').catch(() => undefined);
  if (events) assert.ok(events.items.some((e) => e.reason === 'FailedPostStartHook'));
});
