import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createNodeletMetrics } from '../../metrics/kubelet-metrics.js';
import { silentLogger } from '../../util/log.js';
import { createHandler } from '../handler.js';
import { FakeView, snapshot, withPhase } from '../testing.js';
import { createKubeApi, type KubeApi } from './routes.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

async function serve(t: { after: (fn: () => void | Promise<void>) => void }, view: FakeView): Promise<{ url: string; kubeApi: KubeApi }> {
  const kubeApi = createKubeApi(view, { watchPollMs: 10 });
  const handler = createHandler(view, silentLogger(), { metrics: createNodeletMetrics({ processMetrics: false }), kubeApi });
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    handler.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, kubeApi };
}

function call(url: string, opts: { method?: string; accept?: string; body?: string } = {}): Promise<{ code: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.accept ? { accept: opts.accept } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ code: res.statusCode!, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = async (url: string, accept?: string) => {
  const r = await call(url, { accept });
  return { code: r.code, obj: JSON.parse(r.body) as Record<string, any> };
};

test('discovery: /api, /api/v1, /apis and /version', async (t) => {
  const { url } = await serve(t, new FakeView());
  assert.deepEqual((await json(`${url}/api`)).obj.versions, ['v1']);
  const v1 = (await json(`${url}/api/v1`)).obj;
  assert.equal(v1.kind, 'APIResourceList');
  assert.deepEqual(
    v1.resources.map((r: { name: string }) => r.name),
    ['events', 'pods', 'pods/log'],
  );
  assert.deepEqual((await json(`${url}/apis`)).obj.groups, []);
  assert.match((await json(`${url}/version`)).obj.gitVersion, /^v1\.\d+\.0\+nodelet\./);
  assert.equal((await json(`${url}/apis/apps/v1`)).code, 404);
});

test('pods list as PodList and as Table, in a namespace, with label and field selectors', async (t) => {
  const v = new FakeView();
  v.snapshots = [snapshot('a', { labels: { app: 'web' } }), snapshot('b', { namespace: 'kube-system', phase: 'Succeeded' })];
  const { url } = await serve(t, v);
  const all = (await json(`${url}/api/v1/pods`)).obj;
  assert.equal(all.kind, 'PodList');
  assert.equal(all.metadata.resourceVersion, '2');
  assert.deepEqual(
    all.items.map((p: any) => p.metadata.name),
    ['a-n1', 'b-n1'],
  );
  assert.equal(all.items[0].kind, undefined, 'list items carry no kind, as from the API server');
  const ns = (await json(`${url}/api/v1/namespaces/kube-system/pods`)).obj;
  assert.deepEqual(
    ns.items.map((p: any) => p.metadata.name),
    ['b-n1'],
  );
  const sel = (await json(`${url}/api/v1/pods?labelSelector=${encodeURIComponent('app in (web)')}`)).obj;
  assert.deepEqual(
    sel.items.map((p: any) => p.metadata.name),
    ['a-n1'],
  );
  const fsel = (await json(`${url}/api/v1/pods?fieldSelector=status.phase%3DSucceeded`)).obj;
  assert.deepEqual(
    fsel.items.map((p: any) => p.metadata.name),
    ['b-n1'],
  );
  const table = (await json(`${url}/api/v1/pods`, TABLE)).obj;
  assert.equal(table.kind, 'Table');
  assert.equal(table.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(
    table.columnDefinitions.map((c: any) => c.name),
    ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
  );
  assert.deepEqual(table.rows[1].cells.slice(0, 5), ['b-n1', '0/1', 'Completed', '0', '60m']);
  assert.equal(table.rows[0].object.kind, 'PartialObjectMetadata');
  assert.equal(table.rows[0].object.metadata.namespace, 'default');
});

test('errors are Status objects: 404 for a missing pod, 400 for a bad selector, 405 for every write', async (t) => {
  const v = new FakeView();
  v.snapshots = [snapshot('a')];
  const { url } = await serve(t, v);
  const missing = await json(`${url}/api/v1/namespaces/default/pods/nope`);
  assert.equal(missing.code, 404);
  assert.deepEqual([missing.obj.kind, missing.obj.reason, missing.obj.message], ['Status', 'NotFound', 'pods "nope" not found']);
  const bad = await json(`${url}/api/v1/pods?fieldSelector=spec.foo%3Dx`);
  assert.deepEqual([bad.code, bad.obj.reason, bad.obj.message], [400, 'BadRequest', 'field label not supported: spec.foo']);
  const del = await call(`${url}/api/v1/namespaces/default/pods/a-n1`, { method: 'DELETE' });
  const s = JSON.parse(del.body);
  assert.deepEqual([del.code, s.reason], [405, 'MethodNotAllowed']);
  assert.match(s.message, /static pods are managed through the manifest directory.*\/etc\/kubernetes\/manifests\/a\.yaml/);
  const create = await call(`${url}/api/v1/namespaces/default/pods`, { method: 'POST', body: JSON.stringify({ metadata: { name: 'new' } }) });
  assert.equal(create.code, 405);
  assert.match(JSON.parse(create.body).message, /to create pod "new", write its manifest into \/etc\/kubernetes\/manifests/);
  const patch = await call(`${url}/api/v1/namespaces/default/events/x`, { method: 'PATCH' });
  assert.equal(patch.code, 405);
});

test('a watch from a list resourceVersion streams what changed after it, then live changes', async (t) => {
  const v = new FakeView();
  v.snapshots = [snapshot('a')];
  const { url, kubeApi } = await serve(t, v);
  const rv = (await json(`${url}/api/v1/pods`)).obj.metadata.resourceVersion;
  v.snapshots = [snapshot('a'), snapshot('b')];
  const lines: any[] = [];
  const req = request(`${url}/api/v1/pods?watch=true&resourceVersion=${rv}`, (res) => {
    let buf = '';
    res.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    });
  });
  req.end();
  t.after(() => req.destroy());
  const until = async (n: number) => {
    for (let i = 0; i < 500 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };
  await until(1);
  v.snapshots = [withPhase(snapshot('a'), 'Succeeded')];
  await until(3);
  assert.deepEqual(
    lines.map((l) => `${l.type} ${l.object.metadata.name}`),
    ['ADDED b-n1', 'MODIFIED a-n1', 'DELETED b-n1'],
  );
  assert.ok(Number(lines[2].object.metadata.resourceVersion) > Number(lines[1].object.metadata.resourceVersion));
  // Once the client goes, nothing is left listening or polling.
  assert.equal(kubeApi.pods.subscribers, 1);
  req.destroy();
  for (let i = 0; i < 200 && kubeApi.pods.subscribers > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(kubeApi.pods.subscribers, 0);
});

test('a Table watch sends the column definitions in its first event only', async (t) => {
  const v = new FakeView();
  v.snapshots = [snapshot('a'), snapshot('b')];
  const { url } = await serve(t, v);
  const body = await new Promise<string>((resolve) => {
    const req = request(`${url}/api/v1/pods?watch=1&timeoutSeconds=1`, { headers: { accept: TABLE } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    });
    req.end();
  });
  const events = body.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(
    events.map((e) => [e.type, e.object.kind, e.object.columnDefinitions.length, e.object.rows[0].cells[0]]),
    [
      ['ADDED', 'Table', 9, 'a-n1'],
      ['ADDED', 'Table', 0, 'b-n1'],
    ],
  );
});

test('events are served as core/v1 Events, selectable by involved object', async (t) => {
  const v = new FakeView();
  v.snapshots = [snapshot('a')];
  const ev = (name: string, uid: string, reason: string, rv: number) => ({
    name,
    involvedObject: { namespace: 'default', name: name.split('.')[0]!, uid },
    type: 'Normal' as const,
    reason,
    message: `${reason} it`,
    count: 1,
    firstTimestamp: v.time - 5000,
    lastTimestamp: v.time - 5000,
    resourceVersion: rv,
  });
  v.podEvents = [ev('a-n1.1', 'uid-a', 'Started', 1), ev('b-n1.1', 'uid-b', 'Killing', 2)];
  const { url } = await serve(t, v);
  const list = (await json(`${url}/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Da-n1,involvedObject.uid%3Duid-a`)).obj;
  assert.equal(list.kind, 'EventList');
  assert.equal(list.items.length, 1);
  assert.deepEqual([list.items[0].reason, list.items[0].involvedObject.kind, list.items[0].source.component], ['Started', 'Pod', 'kubelet']);
  const table = (await json(`${url}/api/v1/events`, TABLE)).obj;
  assert.deepEqual(table.rows[0].cells.slice(0, 4), ['5s', 'Normal', 'Started', 'pod/a-n1']);
});

test('a log request for a container that has not started is a 400 saying why', async (t) => {
  const v = new FakeView();
  v.snapshots = [snapshot('a')];
  const { url } = await serve(t, v);
  const r = await json(`${url}/api/v1/namespaces/default/pods/a-n1/log`);
  assert.equal(r.code, 400);
  assert.match(r.obj.message, /container "main" in pod "a-n1" is waiting to start/);
  const other = await json(`${url}/api/v1/namespaces/default/pods/a-n1/log?container=x`);
  assert.equal(other.obj.message, 'container x is not valid for pod a-n1');
  const prev = await json(`${url}/api/v1/namespaces/default/pods/a-n1/log?previous=true`);
  assert.equal(prev.obj.message, 'previous terminated container "main" in pod "a-n1" not found');
});

test('/metrics has the kubelet gauges, computed from the view when scraped', async (t) => {
  const v = new FakeView();
  const { url } = await serve(t, v);
  const running = {
    name: 'main',
    init: false,
    restartCount: 0,
    current: { id: 'c1', sandboxId: 's', name: 'main', attempt: 0, state: 'running' as const, image: '', createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath: '/dev/null' },
  };
  v.snapshots = [snapshot('a', { containers: [running] }), snapshot('b')];
  const m = await call(`${url}/metrics`);
  assert.match(m.type, /text\/plain/);
  assert.match(m.body, /^kubelet_running_pods 1$/m);
  assert.match(m.body, /^kubelet_running_containers\{container_state="running"\} 1$/m);
  assert.match(m.body, /^kubelet_desired_pods\{static="true"\} 2$/m);
});
