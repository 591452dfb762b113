// nodelet joining a cluster with --kubeconfig. No kube-apiserver can be installed on the machines these
// tests run on, so they run against the in-repo API-server TEST DOUBLE (test/apiserver-double/), which
// follows the real API's semantics for the calls used; the last test runs against a real cluster when
// NODELET_E2E_KUBECONFIG names one, and says it is skipped otherwise.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Pod } from '../../src/api/types.js';
import type { Event } from 'kubernetes-types/core/v1.js';
import { startApiServerDouble, type ApiServerDouble } from '../apiserver-double/server.js';
import { marker, Nodelet, NODE, pgrep, sleepPod, waitFor } from './harness.js';

const TOKEN = 'nodelet-test-token';

interface Setup {
  api: ApiServerDouble;
  n: Nodelet;
  kubeconfig: string;
}

/** An API-server double (HTTPS, token auth) and a nodelet joined to it, with fast status and lease periods. */
async function joined(t: { after: (fn: () => Promise<void>) => void }, opts: { apiDown?: boolean } = {}): Promise<Setup> {
  const api = await startApiServerDouble({ tls: true, token: TOKEN, bookmarkIntervalMs: 500 });
  t.after(() => api.close());
  const n = new Nodelet();
  t.after(() => n.stop());
  const kubeconfig = path.join(n.dir, 'kubeconfig');
  api.writeKubeconfig(kubeconfig, { token: TOKEN });
  const config = path.join(n.dir, 'config.yaml');
  writeFileSync(config, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeLeaseDurationSeconds: 4\n');
  if (opts.apiDown) await api.stop();
  n.start([`--kubeconfig=${kubeconfig}`, `--config=${config}`, '--node-status-update-frequency=1s']);
  return { api, n, kubeconfig };
}

/** Calls the double as a user would (kubectl delete, edit). */
async function userCall(api: ApiServerDouble, method: string, urlPath: string, body?: unknown): Promise<number> {
  const { request } = await import('node:https');
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Authorization: `Bearer ${TOKEN}` };
    if (data !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    const req = request(
      `${api.url}${urlPath}`,
      { method, ca: api.caCert, headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const mirror = (api: ApiServerDouble, name: string) => api.get('pods', 'default', `${name}-${NODE}`) as Pod | undefined;

test('the Node is registered with labels, addresses and conditions; its status and Lease are renewed', async (t) => {
  const { api } = await joined(t);
  const node = await waitFor('the Node', () => api.get('nodes', undefined, NODE) as Record<string, any> | undefined);
  assert.equal(node.metadata.labels['kubernetes.io/hostname'], NODE);
  assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
  assert.ok(node.metadata.labels['kubernetes.io/arch']);
  const ready = await waitFor('Ready=True', () => {
    const n = api.get('nodes', undefined, NODE) as Record<string, any>;
    return n.status?.conditions?.find((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  });
  assert.equal(ready.reason, 'KubeletReady');
  const status = (api.get('nodes', undefined, NODE) as Record<string, any>).status;
  assert.deepEqual(status.conditions.map((c: { type: string }) => c.type).sort(), ['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
  assert.ok(status.addresses.some((a: { type: string }) => a.type === 'InternalIP'));
  assert.equal(status.capacity.pods, '110');
  assert.match(status.nodeInfo.kubeletVersion, /^v1\.\d+\.\d+\+nodelet/);

  const lease = await waitFor('the Lease', () => api.get('leases', 'kube-node-lease', NODE) as Record<string, any> | undefined);
  assert.equal(lease.spec.holderIdentity, NODE);
  assert.equal(lease.spec.leaseDurationSeconds, 4);
  assert.equal(lease.metadata.ownerReferences[0].uid, node.metadata.uid);
  const first = lease.spec.renewTime;
  await waitFor('the Lease renewed', () => (api.get('leases', 'kube-node-lease', NODE) as Record<string, any>).spec.renewTime !== first, 15_000);
  const beat = ready.lastHeartbeatTime;
  await waitFor('a newer heartbeat', () => {
    const n = api.get('nodes', undefined, NODE) as Record<string, any>;
    return n.status.conditions.find((c: { type: string }) => c.type === 'Ready').lastHeartbeatTime !== beat;
  }, 15_000);
});

test('a pod bound to the node runs, its status is patched, and a graceful deletion stops then deletes it', async (t) => {
  const { api, n } = await joined(t);
  const mark = n.track(marker());
  api.put('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bound', namespace: 'default' },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 5, containers: [{ name: 'main', image: 'busybox', command: ['sleep', mark] }] },
  });
  await waitFor('the container to run', () => pgrep(`sleep ${mark}`).length === 1);
  const running = await waitFor('status Running in the API server', () => {
    const p = api.get('pods', 'default', 'bound') as Pod;
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running ? p : undefined;
  });
  assert.equal(running.status!.containerStatuses![0]!.restartCount, 0);
  assert.equal(running.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'True');
  // Its events are in the API server, about the API's pod object, as the kubelet writes them.
  const eventsOf = (reason: string) =>
    (api.list('events', 'default') as Event[]).filter((e) => e.involvedObject.uid === running.metadata!.uid && e.reason === reason);
  const started = await waitFor('the Started event in the API server', () => eventsOf('Started')[0]);
  assert.deepEqual(
    [started.type, started.involvedObject.fieldPath, started.source, started.reportingComponent, started.count],
    ['Normal', 'spec.containers{main}', { component: 'kubelet', host: NODE }, 'kubelet', 1],
  );

  assert.equal(await userCall(api, 'DELETE', '/api/v1/namespaces/default/pods/bound', { gracePeriodSeconds: 5 }), 200);
  await waitFor('the container to stop', () => pgrep(`sleep ${mark}`).length === 0);
  await waitFor('the pod to be deleted for good', () => !api.get('pods', 'default', 'bound'));
  await waitFor('the Killing event in the API server', () => eventsOf('Killing').length === 1);
  const finalDelete = api.requests.find((r) => r.method === 'DELETE' && r.path.endsWith('/pods/bound') && (r.body as { gracePeriodSeconds?: number })?.gracePeriodSeconds === 0);
  assert.ok(finalDelete, 'nodelet deletes with grace 0 once the containers are gone');
});

test('mirror pods: created for a static pod, re-created after a delete or an edit, deleted with the manifest', async (t) => {
  const { api, n, kubeconfig } = await joined(t);
  const mark = n.track(marker());
  n.write('web.yaml', sleepPod('web', mark));
  const m = await waitFor('the mirror pod', () => mirror(api, 'web'));
  const staticPod = await waitFor('the static pod', () => n.pod('web'));
  assert.equal(m.metadata!.annotations!['kubernetes.io/config.mirror'], staticPod.metadata!.annotations!['kubernetes.io/config.hash']);
  assert.deepEqual(m.metadata!.ownerReferences!.map((o) => [o.kind, o.name, o.controller]), [['Node', NODE, true]]);
  await waitFor('the mirror status to be the real one', () => mirror(api, 'web')?.status?.phase === 'Running');

  const kubectl = await new Promise<string>((resolve, reject) =>
    execFile('kubectl', ['--kubeconfig', kubeconfig, 'get', 'pods', '-A'], { env: { ...process.env, HOME: n.dir }, timeout: 20_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}: ${errOut}`)) : resolve(out),
    ),
  );
  assert.match(kubectl, new RegExp(`default\\s+web-${NODE}\\s+1/1\\s+Running`));

  const pid = pgrep(`sleep ${mark}`)[0];
  assert.equal(await userCall(api, 'DELETE', `/api/v1/namespaces/default/pods/web-${NODE}`, { gracePeriodSeconds: 0 }), 200);
  const again = await waitFor('a new mirror pod', () => {
    const x = mirror(api, 'web');
    return x && x.metadata!.uid !== m.metadata!.uid ? x : undefined;
  });
  assert.deepEqual(pgrep(`sleep ${mark}`), [pid], 'deleting a mirror pod does not touch the containers');

  const edited = { ...again, spec: { ...again.spec!, containers: again.spec!.containers.map((c) => ({ ...c, image: 'busybox:edited' })) } };
  assert.equal(await userCall(api, 'PUT', `/api/v1/namespaces/default/pods/web-${NODE}`, edited), 200);
  const restored = await waitFor('the edited mirror re-created', () => {
    const x = mirror(api, 'web');
    return x && x.metadata!.uid !== again.metadata!.uid ? x : undefined;
  });
  assert.equal(restored.spec!.containers[0]!.image, 'busybox');

  n.remove('web.yaml');
  await waitFor('the mirror pod to go with the manifest', () => !mirror(api, 'web'));
});

test('an API server restart and a 410 on the watch: nodelet lists again and keeps going', async (t) => {
  const { api, n } = await joined(t);
  await waitFor('a watch on pods', () => api.requests.some((r) => r.path === '/api/v1/pods' && r.query.watch === 'true'));
  await api.stop();
  // A change while nodelet is cut off, then history compacted: its watch position is now too old.
  const mark = n.track(marker());
  api.put('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'after-restart', namespace: 'default' },
    spec: { nodeName: NODE, containers: [{ name: 'main', image: 'busybox', command: ['sleep', mark] }] },
  });
  api.compact();
  await api.start();
  await waitFor('the pod created after the restart to run', () => pgrep(`sleep ${mark}`).length === 1, 60_000);
  await n.waitForOutput('Watch expired (410 Gone): listing again', 60_000);
});

test('with the API server down, static pods start and run; the Node and mirror pods follow when it is back', async (t) => {
  const { api, n } = await joined(t, { apiDown: true });
  const mark = n.track(marker());
  n.write('etcd.yaml', sleepPod('etcd', mark));
  await waitFor('the static pod to run without an API server', () => pgrep(`sleep ${mark}`).length === 1);
  await n.waitForOutput('Cannot register the node: will retry');
  await api.start();
  await waitFor('the Node registered once the API server is back', () => api.get('nodes', undefined, NODE), 60_000);
  await waitFor('the mirror pod', () => mirror(api, 'etcd'), 60_000);
  assert.equal(pgrep(`sleep ${mark}`).length, 1);
});

test('local storage limits: API pods past an emptyDir sizeLimit or a container\'s ephemeral-storage limit are evicted (Failed, Evicted, the kubelet message); a static pod is not', async (t) => {
  const { api, n } = await joined(t);
  const apiMark = n.track(marker());
  const chattyMark = n.track(marker());
  const quietMark = n.track(marker());
  const staticMark = n.track(marker());
  // The container writes 2 MiB (random: a compressing filesystem must not shrink it) into its own
  // emptyDir through the host path, found by the volume's unique name: this works with and without a sandbox.
  const fill = (volume: string, mark: string) =>
    `for d in ${n.rootDir}/pods/*/volumes/kubernetes.io~empty-dir/${volume}; do head -c 2097152 /dev/urandom > "$d/fill"; done; exec sleep ${mark}`;
  const apiVolume = `scratch-${apiMark}`;
  const staticVolume = `scratch-${staticMark}`;
  api.put('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'hog', namespace: 'default' },
    spec: {
      nodeName: NODE,
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', fill(apiVolume, apiMark)] }],
      volumes: [{ name: apiVolume, emptyDir: { sizeLimit: '1Mi' } }],
    },
  });
  // 2 MB of output: its log passes the container's 256Ki limit, not the pod's total (256Ki + 10Mi).
  api.put('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'chatty', namespace: 'default' },
    spec: {
      nodeName: NODE,
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['sh', '-c', `head -c 786432 /dev/urandom | od -An -tx1; exec sleep ${chattyMark}`],
          resources: { limits: { 'ephemeral-storage': '256Ki' } },
        },
        { name: 'quiet', image: 'busybox', command: ['sleep', quietMark], resources: { limits: { 'ephemeral-storage': '10Mi' } } },
      ],
    },
  });
  n.write(
    'static-hog.yaml',
    `apiVersion: v1
kind: Pod
metadata:
  name: static-hog
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", ${JSON.stringify(fill(staticVolume, staticMark))}]
  volumes:
  - name: ${staticVolume}
    emptyDir: {sizeLimit: 1Mi}
`,
  );
  await waitFor('the containers to run', () => [apiMark, staticMark, chattyMark].every((m) => pgrep(`sleep ${m}`).length === 1), 60_000);

  // The eviction manager looks every 10 s; the status reaches the API server on the next round after.
  const message = `Usage of EmptyDir volume "${apiVolume}" exceeds the limit "1Mi". `;
  const evicted = await waitFor(
    'the API pod Failed/Evicted in the API server',
    () => {
      const p = api.get('pods', 'default', 'hog') as Pod | undefined;
      return p?.status?.phase === 'Failed' && p.status.containerStatuses?.[0]?.state?.terminated ? p : undefined;
    },
    90_000,
  );
  assert.equal(evicted.status!.reason, 'Evicted');
  assert.equal(evicted.status!.message, message);
  assert.equal(evicted.status!.containerStatuses![0]!.restartCount, 0);
  await waitFor('the evicted container to be gone', () => pgrep(`sleep ${apiMark}`).length === 0, 30_000);
  const chatty = await waitFor('the chatty pod Failed/Evicted', () => {
    const p = api.get('pods', 'default', 'chatty') as Pod | undefined;
    return p?.status?.phase === 'Failed' ? p : undefined;
  }, 90_000);
  assert.deepEqual([chatty.status!.reason, chatty.status!.message], ['Evicted', 'Container main exceeded its local ephemeral storage limit "256Ki". ']);
  const evictedEvent = await waitFor('the Evicted event in the API server', () =>
    (api.list('events', 'default') as Event[]).find((e) => e.involvedObject.uid === chatty.metadata!.uid && e.reason === 'Evicted'),
  );
  assert.deepEqual([evictedEvent.type, evictedEvent.message], ['Warning', chatty.status!.message]);
  await waitFor('the chatty pod\'s containers to be gone', () => pgrep(`sleep ${chattyMark}`).length + pgrep(`sleep ${quietMark}`).length === 0, 30_000);

  // The static pod is critical: told once in the log, never evicted.
  await n.waitForOutput(new RegExp(`A local storage limit is exceeded: not enforced on a critical pod .*volume=${staticVolume}`), 90_000);
  const root = `--root-dir=${n.rootDir}`;
  const inspect = n.cli(['inspect', 'hog', '-n', 'default', root]);
  assert.match(inspect, /^ {2}phase: Failed$/m);
  assert.match(inspect, /^ {2}reason: Evicted$/m);
  assert.match(inspect, new RegExp(`^# {3}Warning\\s+Evicted\\s+.*Usage of EmptyDir volume "${apiVolume}" exceeds the limit "1Mi"\\.$`, 'm'));
  assert.match(n.cli(['ps', '-a', root]), /\shog\s+-\s+""\s+Failed \(Evicted\)/);
  const local = await waitFor('the API pod in /pods', async () => (await n.pods()).find((p) => p.metadata?.name === 'hog'));
  assert.deepEqual([local.status?.phase, local.status?.reason, local.status?.message], ['Failed', 'Evicted', message]);

  const staticPod = await waitFor('the static pod', () => n.pod('static-hog'));
  assert.equal(staticPod.status?.phase, 'Running');
  assert.equal(staticPod.status?.reason, undefined);
  assert.equal(pgrep(`sleep ${staticMark}`).length, 1, 'the static pod still runs');
  assert.equal(n.output.match(new RegExp(`not enforced on a critical pod .*volume=${staticVolume}`, 'g'))?.length, 1, 'logged once');
  // Evicted pods are not restarted (the kubelet never restarts them).
  assert.equal(pgrep(`sleep ${apiMark}`).length, 0);
  assert.equal((api.get('pods', 'default', 'hog') as Pod).status?.phase, 'Failed');
});

test('against a real cluster (NODELET_E2E_KUBECONFIG)', { skip: !process.env.NODELET_E2E_KUBECONFIG && 'NODELET_E2E_KUBECONFIG is not set: no real cluster to join' }, async (t) => {
  const n = new Nodelet();
  t.after(() => n.stop());
  const mark = n.track(marker());
  n.write('probe.yaml', sleepPod('probe', mark));
  n.start([`--kubeconfig=${process.env.NODELET_E2E_KUBECONFIG}`]);
  await waitFor('the static pod to run', () => pgrep(`sleep ${mark}`).length === 1);
  const out = () =>
    new Promise<string>((resolve) =>
      execFile('kubectl', ['--kubeconfig', process.env.NODELET_E2E_KUBECONFIG!, 'get', 'pods', '-A', '-o', 'name'], (_err, stdout) => resolve(stdout)),
    );
  await waitFor('the mirror pod in the real cluster', async () => (await out()).includes(`pod/probe-${NODE}`), 60_000);
});
