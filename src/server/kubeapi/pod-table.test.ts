import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerStatus, Pod, PodStatus } from '../../api/types.js';
import { podRow, podSummary } from './pod-table.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');

function pod(status: PodStatus, extra: { inits?: { name: string; restartPolicy?: string }[]; containers?: string[]; deleting?: boolean } = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z', ...(extra.deleting ? { deletionTimestamp: '2024-05-01T12:00:30Z' } : {}) },
    spec: {
      nodeName: 'n1',
      initContainers: extra.inits?.map((c) => ({ name: c.name, restartPolicy: c.restartPolicy })),
      containers: (extra.containers ?? ['main']).map((name) => ({ name })),
    },
    status,
  };
}

const running = (name = 'main', restartCount = 0, ready = true): ContainerStatus => ({
  name,
  ready,
  restartCount,
  image: '',
  imageID: '',
  state: { running: { startedAt: '2024-05-01T11:00:00Z' } },
});
const waiting = (reason: string, name = 'main', restartCount = 0): ContainerStatus => ({
  name,
  ready: false,
  restartCount,
  image: '',
  imageID: '',
  state: { waiting: { reason } },
});
const terminated = (exitCode: number, reason: string | undefined, name = 'main'): ContainerStatus => ({
  name,
  ready: false,
  restartCount: 0,
  image: '',
  imageID: '',
  state: { terminated: { exitCode, ...(reason ? { reason } : {}) } },
});
const cond = (type: string, status: 'True' | 'False') => ({ type, status });

test('STATUS of plain pods: Running, ContainerCreating, Completed, Error, ExitCode', () => {
  assert.equal(podSummary(pod({ phase: 'Running', containerStatuses: [running()] }), NOW).status, 'Running');
  assert.equal(podSummary(pod({ phase: 'Pending', containerStatuses: [waiting('ContainerCreating')] }), NOW).status, 'ContainerCreating');
  assert.equal(podSummary(pod({ phase: 'Succeeded', containerStatuses: [terminated(0, 'Completed')] }), NOW).status, 'Completed');
  assert.equal(podSummary(pod({ phase: 'Failed', containerStatuses: [terminated(1, 'Error')] }), NOW).status, 'Error');
  assert.equal(podSummary(pod({ phase: 'Failed', containerStatuses: [terminated(3, undefined)] }), NOW).status, 'ExitCode:3');
  assert.equal(podSummary(pod({ phase: 'Failed', reason: 'OutOfpods' }), NOW).status, 'OutOfpods');
});

test('a crashing container shows CrashLoopBackOff and restarts with how long ago', () => {
  const c = { ...waiting('CrashLoopBackOff', 'main', 3), lastState: { terminated: { exitCode: 1, finishedAt: '2024-05-01T11:59:20Z' } } };
  const s = podSummary(pod({ phase: 'Running', containerStatuses: [c] }), NOW);
  assert.deepEqual(s, { ready: '0/1', status: 'CrashLoopBackOff', restarts: '3 (40s ago)', completed: false });
});

test('init containers: Init:0/1, Init:CrashLoopBackOff, Init:Error, and PodInitializing counts as pending', () => {
  const inits = [{ name: 'init' }];
  const app = waiting('PodInitializing');
  assert.equal(podSummary(pod({ phase: 'Pending', initContainerStatuses: [running('init')], containerStatuses: [app] }, { inits }), NOW).status, 'Init:0/1');
  assert.equal(
    podSummary(pod({ phase: 'Pending', initContainerStatuses: [waiting('PodInitializing', 'init')], containerStatuses: [app] }, { inits }), NOW).status,
    'Init:0/1',
  );
  assert.equal(
    podSummary(pod({ phase: 'Pending', initContainerStatuses: [waiting('CrashLoopBackOff', 'init', 2)], containerStatuses: [app] }, { inits }), NOW).status,
    'Init:CrashLoopBackOff',
  );
  assert.equal(podSummary(pod({ phase: 'Failed', initContainerStatuses: [terminated(1, 'Error', 'init')], containerStatuses: [app] }, { inits }), NOW).status, 'Init:Error');
  const two = [{ name: 'a' }, { name: 'b' }];
  assert.equal(
    podSummary(pod({ phase: 'Pending', initContainerStatuses: [terminated(0, 'Completed', 'a'), running('b')], containerStatuses: [app] }, { inits: two }), NOW).status,
    'Init:1/2',
  );
});

test('a started sidecar counts as a ready container and does not hold the pod in Init', () => {
  const inits = [{ name: 'side', restartPolicy: 'Always' }];
  const side = { ...running('side'), started: true };
  const s = podSummary(pod({ phase: 'Running', initContainerStatuses: [side], containerStatuses: [running()], conditions: [cond('Initialized', 'True')] }, { inits }), NOW);
  assert.deepEqual([s.ready, s.status], ['2/2', 'Running']);
});

test('Completed with a container still running is Running or NotReady, by the Ready condition', () => {
  const statuses = [terminated(0, 'Completed', 'a'), running('b')];
  const p = (ready: 'True' | 'False') => pod({ phase: 'Running', containerStatuses: statuses, conditions: [cond('Ready', ready)] }, { containers: ['a', 'b'] });
  // Containers are walked last to first, so the first one's Completed is what is left in reason.
  assert.equal(podSummary(p('True'), NOW).status, 'Running');
  assert.equal(podSummary(p('False'), NOW).status, 'NotReady');
});

test('a pod being deleted is Terminating, unless it already finished', () => {
  assert.equal(podSummary(pod({ phase: 'Running', containerStatuses: [running()] }, { deleting: true }), NOW).status, 'Terminating');
  assert.equal(podSummary(pod({ phase: 'Succeeded', containerStatuses: [terminated(0, 'Completed')] }, { deleting: true }), NOW).status, 'Completed');
});

test('the row has the nine cells of the API server pod table', () => {
  const p = pod({ phase: 'Running', containerStatuses: [running()], podIPs: [{ ip: '10.0.0.5' }] });
  assert.deepEqual(podRow(p, NOW).cells, ['p', '1/1', 'Running', '0', '60m', '10.0.0.5', 'n1', '<none>', '<none>']);
  const done = podRow(pod({ phase: 'Succeeded', containerStatuses: [terminated(0, 'Completed')] }), NOW);
  assert.equal(done.conditions?.[0]?.type, 'Completed');
  const gated: Pod = { ...p, spec: { ...p.spec!, readinessGates: [{ conditionType: 'x' }, { conditionType: 'y' }] }, status: { ...p.status, conditions: [cond('x', 'True')] } };
  assert.equal(podRow(gated, NOW).cells[8], '1/2');
});
