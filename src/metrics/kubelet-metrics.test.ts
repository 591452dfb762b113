import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeView, snapshot } from '../server/testing.js';
import { createNodeletMetrics } from './kubelet-metrics.js';

const running = (id: string, init = false) => ({
  name: init ? 'init' : 'main',
  init,
  restartCount: 0,
  current: { id, sandboxId: 's', name: 'main', attempt: 0, state: 'running' as const, image: '', createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath: '' },
});

test('the kubelet metric names are there from the first scrape', async () => {
  const m = createNodeletMetrics({ processMetrics: false });
  m.attach(new FakeView());
  const { body, contentType } = await m.render();
  assert.match(contentType, /^text\/plain/);
  for (const name of [
    'kubelet_running_pods 0',
    'kubelet_running_containers{container_state="running"} 0',
    'kubelet_desired_pods{static="true"} 0',
    'kubelet_restarted_pods_total{static="true"} 0',
    'kubelet_started_containers_total{container_type="container"} 0',
    'kubelet_node_name{node="n1"} 1',
  ]) {
    assert.ok(body.includes(`\n${name}\n`), name);
  }
});

test('process metrics come with the registry unless left out', async () => {
  const m = createNodeletMetrics();
  assert.match((await m.render()).body, /^process_cpu_user_seconds_total /m);
});

test('syncs and first starts are observed in the kubelet histograms', async () => {
  const m = createNodeletMetrics({ processMetrics: false });
  m.observeSync('create', 0.02);
  m.observeSync('sync', 0.003);
  const pod = snapshot('a').pod;
  m.observeFirstStart(pod, 1.5);
  const { body } = await m.render();
  assert.match(body, /^kubelet_pod_worker_duration_seconds_count\{operation_type="create"\} 1$/m);
  assert.match(body, /^kubelet_pod_worker_duration_seconds_bucket\{le="0.005",operation_type="sync"\} 1$/m);
  assert.match(body, /^kubelet_pod_start_duration_seconds_bucket\{le="2"\} 1$/m);
  assert.match(body, /^kubelet_pod_start_duration_seconds_bucket\{le="1"\} 0$/m);
  assert.match(body, /^kubelet_restarted_pods_total\{static="true"\} 0$/m);
  // The same UID started again (its file removed and put back): a restarted static pod.
  m.observeFirstStart(pod, 0.5);
  assert.match((await m.render()).body, /^kubelet_restarted_pods_total\{static="true"\} 1$/m);
});

test('gauges count running pods and containers by state, and started containers by type', async () => {
  const m = createNodeletMetrics({ processMetrics: false });
  const v = new FakeView();
  m.attach(v);
  const exited = { ...running('x'), current: { ...running('x').current, state: 'exited' as const } };
  v.snapshots = [snapshot('a', { containers: [running('i1', true), running('c1')] }), snapshot('b', { containers: [exited] }), snapshot('c', { state: 'terminating' })];
  m.containerStarted({ podUID: 'uid-a', containerId: 'i1' });
  m.containerStarted({ podUID: 'uid-a', containerId: 'c1' });
  m.containerStarted({ podUID: 'gone', containerId: 'zz' });
  const { body } = await m.render();
  assert.match(body, /^kubelet_running_pods 1$/m);
  assert.match(body, /^kubelet_running_containers\{container_state="running"\} 2$/m);
  assert.match(body, /^kubelet_running_containers\{container_state="exited"\} 1$/m);
  assert.match(body, /^kubelet_desired_pods\{static="true"\} 2$/m);
  assert.match(body, /^kubelet_started_containers_total\{container_type="init_container"\} 1$/m);
  assert.match(body, /^kubelet_started_containers_total\{container_type="container"\} 2$/m);
});
