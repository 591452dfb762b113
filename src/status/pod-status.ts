import type { ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from '../api/types.js';
import { qosClass } from '../container/linux-resources.js';
import type { ContainerInfo } from '../runtime/types.js';
import type { ContainerView, PodView } from './types.js';

/** The phase of a pod (pkg/kubelet/kubelet_pods.go getPhase), before the sticky terminal phase is applied. */
export function computePhase(pod: Pod, containers: ContainerView[]): NonNullable<PodStatus['phase']> {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const initSpecs = pod.spec?.initContainers ?? [];
  const sidecars = new Set(initSpecs.filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  let pendingInit = 0;
  let failedInit = false;
  for (const v of containers) {
    if (!v.init || sidecars.has(v.name)) continue;
    const cur = v.current;
    if (cur?.state === 'exited' && cur.exitCode === 0) continue;
    if (cur?.state === 'exited' && cur.exitCode !== 0 && policy === 'Never') failedInit = true;
    pendingInit++;
  }
  if (failedInit) return 'Failed';
  if (pendingInit > 0) return 'Pending';

  // Only app containers decide the phase from here on (sidecars count for initialization only).
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const v of containers) {
    if (v.init) continue;
    const cur = v.current;
    if (cur?.state === 'running') running++;
    else if (cur?.state === 'exited') {
      stopped++;
      if (cur.exitCode === 0) succeeded++;
    } else if (v.previous || v.restartCount > 0) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (succeeded === stopped) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** The full PodStatus of a pod as the kubelet reports it (status_manager + convertToAPIContainerStatuses). */
export function computePodStatus(view: PodView, now: number): PodStatus {
  const { pod } = view;
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (view.rejected) {
    return { phase: 'Failed', reason: view.rejected.reason, message: view.rejected.message, hostIP: view.hostIP };
  }
  const phase = view.terminalPhase ?? computePhase(pod, view.containers);
  const byName = new Map(view.containers.map((v) => [v.name, v]));
  const regularInits = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy !== 'Always');
  const initialized = regularInits.every((c) => {
    const cur = byName.get(c.name)?.current;
    return cur?.state === 'exited' && cur.exitCode === 0;
  });
  const initStatuses = (pod.spec?.initContainers ?? []).map((c) => containerStatus(c.name, c.image, byName.get(c.name), true));
  const appStatuses = (pod.spec?.containers ?? []).map((c) => containerStatus(c.name, c.image, byName.get(c.name), false));

  const containersReady = appStatuses.length > 0 && appStatuses.every((s) => s.ready) && phase === 'Running';
  const transition = iso(view.startTime || now);
  const cond = (type: string, ok: boolean, reason?: string): PodCondition => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null as unknown as undefined,
    lastTransitionTime: transition,
    ...(ok || !reason ? {} : { reason }),
  });
  const notReady = phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady';
  const status: PodStatus = {
    phase,
    // As the kubelet's status of a pod it killed abnormally (TerminatePodOptions Reason, Message).
    ...(view.terminalReason ? { reason: view.terminalReason.reason, message: view.terminalReason.message } : {}),
    conditions: [
      cond('PodReadyToStartContainers', view.startTime > 0 && !view.terminating),
      cond('Initialized', initialized, phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotInitialized'),
      cond('Ready', containersReady, notReady),
      cond('ContainersReady', containersReady, notReady),
      cond('PodScheduled', true),
    ],
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    // Not allocated yet: left out, as the kubelet's status before the sandbox reports an address.
    ...(view.podIP ? { podIP: view.podIP, podIPs: [{ ip: view.podIP }] } : {}),
    qosClass: qosClass(pod),
  };
  if (view.startTime) status.startTime = iso(view.startTime);
  if (initStatuses.length) status.initContainerStatuses = initStatuses;
  status.containerStatuses = appStatuses;
  return status;

  function containerStatus(name: string, image: string | undefined, v: ContainerView | undefined, init: boolean): ContainerStatus {
    const cur = v?.current;
    let state: ContainerState;
    let lastState: ContainerState = {};
    if (v?.waiting) {
      state = { waiting: { ...v.waiting } };
      if (cur?.state === 'exited') lastState = terminatedState(cur);
      else if (v.previous) lastState = terminatedState(v.previous);
    } else if (cur?.state === 'running') {
      state = { running: { startedAt: iso(cur.startedAt) } };
      if (v?.previous) lastState = terminatedState(v.previous);
    } else if (cur?.state === 'exited') {
      state = terminatedState(cur);
      if (v?.previous) lastState = terminatedState(v.previous);
    } else {
      const initializing = !init && !initialized;
      state = { waiting: { reason: initializing ? 'PodInitializing' : 'ContainerCreating' } };
      if (v?.previous) lastState = terminatedState(v.previous);
    }
    const running = cur?.state === 'running' && !v?.waiting;
    const s: ContainerStatus = {
      name,
      state,
      lastState,
      ready: running && (v?.ready ?? true),
      restartCount: v?.restartCount ?? 0,
      image: image ?? '',
      imageID: cur?.imageRef ?? '',
      started: running && (v?.started ?? true),
    };
    if (cur) s.containerID = containerID(cur);
    return s;
  }

  function terminatedState(info: ContainerInfo): ContainerState {
    return {
      terminated: {
        exitCode: info.exitCode,
        reason: info.reason || (info.exitCode === 0 ? 'Completed' : 'Error'),
        ...(info.message ? { message: info.message } : {}),
        startedAt: info.startedAt ? iso(info.startedAt) : undefined,
        finishedAt: info.finishedAt ? iso(info.finishedAt) : undefined,
        containerID: containerID(info),
      },
    };
  }
}

/** `<runtime>://<id>`, as kubecontainer.ContainerID prints it: `containerd://…`, or `process://…` for ours. */
function containerID(info: ContainerInfo): string {
  return `${info.runtimeType ?? 'process'}://${info.id}`;
}
