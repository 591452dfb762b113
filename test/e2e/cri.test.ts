// nodelet on a real containerd (CRI runtime.v1 over gRPC): images, isolation and networking are
// containerd's; the pod workers are the same as on the process runtime. See test/e2e/cri-env.ts for
// where the containerd comes from.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { OWNER_LABEL, ownerOf } from '../../src/runtime/cri/to-cri.js';
import { BUSYBOX_IMAGE, criEnvironment, removeSandboxesOf, type CriEnv } from './cri-env.js';
import { Nodelet, NODE, waitFor } from './harness.js';

const found = criEnvironment();
const skip = 'skip' in found ? found.skip : false;
const env = found as CriEnv;

describe('CRI runtime against a real containerd', { skip }, () => {
  after(() => env.close());

  /** A nodelet on the test containerd that stops its pods on SIGTERM, with a safety net for leftovers. */
  function withNodelet(t: { after: (fn: () => Promise<void>) => void }, args: string[] = []): Nodelet {
    const n = new Nodelet();
    t.after(async () => {
      await n.stop();
      await removeSandboxesOf(env.client, n.rootDir);
    });
    return n.start([`--container-runtime-endpoint=${env.endpoint}`, '--stop-pods-on-exit', ...args]);
  }

  const pod = (name: string, spec: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  terminationGracePeriodSeconds: 5
${spec}`;

  const status = async (n: Nodelet, name: string) => (await n.pod(name))?.status;
  const main = async (n: Nodelet, name: string) => (await status(n, name))?.containerStatuses?.find((c) => c.name === 'main');
  /** Waits until the pod's `main` container runs; resolves with its status. */
  const mainRunning = (n: Nodelet, name: string, what = `${name} to run`) =>
    waitFor(what, async () => {
      const m = await main(n, name);
      return m?.state?.running ? m : undefined;
    }, 60_000);
  /** A pod of one busybox container `main` running `sleep 3600`. */
  const sleeper = (name: string) => pod(name, `  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
`);

  function podLog(n: Nodelet, name: string, container = 'main', attempt = 0): string {
    const dir = readdirSync(n.logsDir).find((d) => d.startsWith(`default_${name}-${NODE}_`));
    if (!dir) return '';
    const file = path.join(n.logsDir, dir, container, `${attempt}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  test('a pod runs its image with command, args and env on the pod network, and its logs are CRI logs', async (t) => {
    const n = withNodelet(t);
    n.write('web.yaml', pod('web', `  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c"]
    args: ["echo hello $(GREETING) from $POD_NAME on $(hostname); ip addr show eth0 | grep -o 'inet [0-9.]*'; echo pod IP $POD_IP; exec sleep 3600"]
    env:
    - {name: GREETING, value: world}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
`));
    const s = await waitFor('web to run', async () => ((await main(n, 'web'))?.state?.running ? status(n, 'web') : undefined), 60_000);
    const c = s.containerStatuses![0]!;
    assert.match(c.containerID!, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(c.imageID!, /^sha256:[0-9a-f]{64}$/);
    assert.match(s.podIP!, /^10\.88\.\d+\.\d+$/, 'a pod on the CNI bridge gets an address from its range');
    const log = await waitFor('the log lines', () => (podLog(n, 'web').includes('pod IP ') ? podLog(n, 'web') : ''));
    assert.match(log, /^\S+ stdout F hello world from web-testnode on web-testnode$/m);
    assert.match(log, new RegExp(`stdout F inet ${s.podIP!.replace(/\./g, '\\.')}$`, 'm'));
    // fieldRef status.podIP is the pod's own address, as the kubelet gives it, not the node's.
    assert.match(log, new RegExp(`stdout F pod IP ${s.podIP!.replace(/\./g, '\\.')}$`, 'm'));
  });

  test('a host-network pod shares the node network and hostname; BestEffort, it gets OOM score 1000 (oom_score_adj reaches containerd)', async (t) => {
    const n = withNodelet(t);
    n.write('hn.yaml', pod('hn', `  hostNetwork: true
  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "hostname; cat /proc/self/oom_score_adj; exec sleep 3600"]
`));
    const s = await waitFor('hn to run', async () => ((await main(n, 'hn'))?.state?.running ? status(n, 'hn') : undefined), 60_000);
    assert.equal(s.podIP, s.hostIP);
    const lines = await waitFor('two lines of output', () => {
      const out = podLog(n, 'hn').split('\n').filter(Boolean).map((l) => l.split(' ').slice(3).join(' '));
      return out.length >= 2 ? out : undefined;
    });
    assert.deepEqual(lines.slice(0, 2), [hostname(), '1000']);
  });

  test('the security context reaches the container: user, group, read-only root, dropped capabilities, resources', async (t) => {
    const n = withNodelet(t);
    n.write('sec.yaml', pod('sec', `  securityContext: {runAsUser: 1000, runAsGroup: 3000}
  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "id -u; id -g; touch /probe 2>&1 || true; grep CapEff /proc/self/status; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; exec sleep 3600"]
    resources:
      limits: {memory: 64Mi, cpu: 250m}
    securityContext:
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
`));
    await mainRunning(n, 'sec');
    const lines = await waitFor('five lines of output', () => {
      const out = podLog(n, 'sec').split('\n').filter(Boolean).map((l) => l.split(' ').slice(3).join(' '));
      return out.length >= 5 ? out : undefined;
    });
    assert.deepEqual(lines.slice(0, 2), ['1000', '3000']);
    assert.match(lines[2]!, /Read-only file system/);
    assert.match(lines[3]!, /^CapEff:\s+0+$/);
    assert.equal(lines[4], String(64 * 1024 * 1024));
  });

  test('exit codes are reported and a failing container restarts with back-off', async (t) => {
    const n = withNodelet(t);
    n.write('crash.yaml', pod('crash', `  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "echo attempt; exit 3"]
`));
    const c = await waitFor('two restarts', async () => {
      const m = await main(n, 'crash');
      return m && m.restartCount >= 2 ? m : undefined;
    }, 90_000);
    assert.equal(c.lastState?.terminated?.exitCode, 3);
    assert.equal(c.lastState?.terminated?.reason, 'Error');
    assert.match(podLog(n, 'crash', 'main', 1), /stdout F attempt/);
  });

  test('emptyDir, hostPath and downwardAPI volumes are mounted; two containers share an emptyDir', async (t) => {
    const n = withNodelet(t);
    const host = path.join(n.dir, 'host-data');
    mkdirSync(host);
    n.write('vol.yaml', pod('vol', `  volumes:
  - {name: shared, emptyDir: {}}
  - {name: data, hostPath: {path: ${host}, type: Directory}}
  - name: info
    downwardAPI:
      items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]
  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "echo from-writer > /shared/note; echo to-host > /data/out; cat /info/labels; echo; exec sleep 3600"]
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: data, mountPath: /data}
    - {name: info, mountPath: /info, readOnly: true}
  - name: reader
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "until [ -f /in/note ]; do sleep 0.1; done; cat /in/note; exec sleep 3600"]
    volumeMounts:
    - {name: shared, mountPath: /in, readOnly: true}
`));
    await waitFor('the reader to see the writer\'s note', () => podLog(n, 'vol', 'reader').includes('stdout F from-writer'), 60_000);
    assert.match(podLog(n, 'vol'), /stdout F app="vol"/);
    await waitFor('the file on the host', () => existsSync(path.join(host, 'out')));
    assert.equal(readFileSync(path.join(host, 'out'), 'utf8'), 'to-host\n');
  });

  test('containerd writes the logs, nodelet rotates them (ReopenContainerLog) and `nodelet logs` reads them', async (t) => {
    const n = withNodelet(t, ['--container-log-max-size=4Ki', '--container-log-max-files=3']);
    n.write('chatty.yaml', pod('chatty', `  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "i=0; while :; do i=$((i+1)); echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; sleep 0.05; done"]
`));
    const dir = await waitFor('the log dir', () => readdirSync(n.logsDir).find((d) => d.startsWith(`default_chatty-${NODE}_`)), 60_000);
    const files = () => readdirSync(path.join(n.logsDir, dir, 'main'));
    // The rotator looks every 10 s: a generous deadline for the first rotation.
    await waitFor('a rotated file', () => files().some((f) => /^0\.log\.\d{8}-\d{6}$/.test(f)), 60_000);
    const lastLine = () => Number(/line-(\d+)-x+\n$/.exec(podLog(n, 'chatty'))?.[1] ?? 0);
    const seen = lastLine();
    await waitFor('new lines in the reopened 0.log', () => lastLine() > seen + 5);
    const out = n.cli(['logs', `--root-dir=${n.rootDir}`, '--tail=1', 'chatty']);
    assert.match(out, /^line-\d+-x+\n$/);
  });

  test('an exec readiness probe makes the pod Ready; removal stops it within its grace period', async (t) => {
    const n = withNodelet(t);
    // The pod's logs go with it: the container leaves its word on the host instead.
    const out = path.join(n.dir, 'term');
    mkdirSync(out);
    n.write('ready.yaml', pod('ready', `  volumes:
  - {name: out, hostPath: {path: ${out}, type: Directory}}
  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "trap 'echo got TERM > /out/term; exit 0' TERM; sleep 2; touch /tmp/ready; while :; do sleep 0.2; done"]
    volumeMounts: [{name: out, mountPath: /out}]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
`));
    await waitFor('Ready', async () => (await status(n, 'ready'))?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 60_000);
    const t0 = Date.now();
    n.remove('ready.yaml');
    await waitFor('the pod to go', async () => !(await n.pod('ready')), 60_000);
    assert.ok(Date.now() - t0 < 30_000);
    assert.equal(readFileSync(path.join(out, 'term'), 'utf8'), 'got TERM\n', 'the container got SIGTERM first');
    assert.ok(!readdirSync(n.logsDir).some((d) => d.startsWith(`default_ready-${NODE}_`)), 'the pod log directory went with the pod');
  });

  test('imagePullPolicy Never without the image waits as ErrImageNeverPull; a failed pull backs off', async (t) => {
    const n = withNodelet(t);
    n.write('never.yaml', pod('never', `  containers:
  - name: main
    image: nodelet.test/absent:1
    imagePullPolicy: Never
`));
    // Port 1 on loopback refuses at once: the pull fails fast, with no DNS or network involved.
    n.write('pull.yaml', pod('pull', `  containers:
  - name: main
    image: 127.0.0.1:1/absent:1
    imagePullPolicy: IfNotPresent
`));
    await waitFor('ErrImageNeverPull', async () => (await main(n, 'never'))?.state?.waiting?.reason === 'ErrImageNeverPull', 60_000);
    const w = await waitFor('ImagePullBackOff', async () => {
      const m = await main(n, 'pull');
      return m?.state?.waiting?.reason === 'ImagePullBackOff' ? m.state.waiting : undefined;
    }, 90_000);
    assert.equal(w.message, 'Back-off pulling image "127.0.0.1:1/absent:1"');
    const events = n.cli(['inspect', `--root-dir=${n.rootDir}`, 'pull']);
    assert.match(events, /Failed to pull image "127\.0\.0\.1:1\/absent:1"/);
  });

  test('OOMKilled under a small memory limit', { skip: !existsSync('/sys/fs/cgroup/memory') && !existsSync('/sys/fs/cgroup/memory.max') && 'no memory cgroup here' }, async (t) => {
    const n = withNodelet(t);
    n.write('oom.yaml', pod('oom', `  restartPolicy: Never
  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "tail /dev/zero"]
    resources:
      limits: {memory: 16Mi}
`));
    const c = await waitFor('the container to be OOM killed', async () => (await main(n, 'oom'))?.state?.terminated, 60_000);
    assert.equal(c.reason, 'OOMKilled');
    assert.equal(c.exitCode, 137);
    assert.equal((await status(n, 'oom'))?.phase, 'Failed');
  });

  test('a container\'s writable layer counts toward its ephemeral-storage limit (ContainerStats); a static pod over it is logged, not evicted', async (t) => {
    const n = withNodelet(t);
    // 3 MB in its root filesystem, nothing in its logs; the pod's total (1Mi + 10Mi) is not passed.
    n.write('layer.yaml', pod('layer', `  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "dd if=/dev/urandom of=/fill bs=1024 count=3072 2>/dev/null; exec sleep 3600"]
    resources:
      limits: {ephemeral-storage: 1Mi}
  - name: quiet
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    resources:
      limits: {ephemeral-storage: 10Mi}
`));
    await mainRunning(n, 'layer');
    // containerd refreshes snapshot usage every 10 s, the eviction pass runs every 10 s.
    await n.waitForOutput(/A local storage limit is exceeded: not enforced on a critical pod .*Container main exceeded its local ephemeral storage limit/, 90_000);
    assert.ok((await main(n, 'layer'))?.state?.running, 'a static pod is never evicted');
  });

  test('a nodelet killed -9 and started again adopts the running containers: same IDs, no restart', async (t) => {
    const n = withNodelet(t);
    n.write('keep.yaml', sleeper('keep'));
    const before = await mainRunning(n, 'keep');
    const ipBefore = (await status(n, 'keep'))?.podIP;
    assert.match(ipBefore ?? '', /^10\.88\.\d+\.\d+$/);
    await n.kill('SIGKILL');
    n.start([`--container-runtime-endpoint=${env.endpoint}`, '--stop-pods-on-exit']);
    await n.waitForOutput('Adopted the pod from the runtime');
    const afterKill = await mainRunning(n, 'keep', 'keep to be listed again');
    assert.equal(afterKill.containerID, before.containerID);
    assert.equal(afterKill.restartCount, 0);
    assert.equal(afterKill.state?.running?.startedAt, before.state?.running?.startedAt);
    // ListPodSandbox gives no address: the adopted pod's own is asked for, not replaced by the node's.
    await waitFor('the adopted pod\'s own IP', async () => ((await status(n, 'keep'))?.podIP === ipBefore ? true : undefined));
  });

  test('a sandbox whose pause process dies is re-created, and the container restarts in it', async (t) => {
    const n = withNodelet(t);
    n.write('phoenix.yaml', sleeper('phoenix'));
    const before = await mainRunning(n, 'phoenix');
    const { items } = await env.client.listPodSandbox({ filter: { label_selector: { [OWNER_LABEL]: ownerOf(n.rootDir) } } });
    assert.equal(items.length, 1);
    const { info } = await env.client.podSandboxStatus({ pod_sandbox_id: items[0]!.id, verbose: true });
    const pausePid = (JSON.parse(info.info ?? '{}') as { pid?: number }).pid;
    assert.ok(pausePid && pausePid > 1, 'the sandbox status names its pause process');
    process.kill(pausePid, 'SIGKILL');
    const after = await waitFor('a new container in a new sandbox', async () => {
      const m = await main(n, 'phoenix');
      return m?.state?.running && m.containerID !== before.containerID ? m : undefined;
    }, 60_000);
    assert.equal(after.restartCount, 1);
    const now = await env.client.listPodSandbox({ filter: { label_selector: { [OWNER_LABEL]: ownerOf(n.rootDir) } } });
    assert.deepEqual(now.items.map((s) => [s.metadata?.attempt, s.state]), [[1, 'SANDBOX_READY']]);
    assert.match(n.cli(['inspect', `--root-dir=${n.rootDir}`, 'phoenix']), /SandboxChanged/);
  });

  test('containerd restarting under running pods: the pods run on and nodelet keeps driving them', async (t) => {
    if (!process.env.NODELET_CRI_DIR && process.env.NODELET_CRI_ENDPOINT) return t.skip('NODELET_CRI_DIR is not set: cannot restart this containerd');
    const n = withNodelet(t);
    n.write('survive.yaml', pod('survive', `  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]
`));
    const before = await mainRunning(n, 'survive');
    env.restart();
    await waitFor('/healthz ok after the restart', async () => (await n.get('/healthz')) === 'ok');
    const c = await main(n, 'survive');
    assert.equal(c?.containerID, before.containerID);
    assert.ok(c?.state?.running);
    n.remove('survive.yaml');
    await waitFor('the pod to be stopped through the restarted containerd', async () => !(await n.pod('survive')), 60_000);
  });

  test('a runtime that cannot be reached makes /healthz fail with the reason, and nodelet does not crash', async (t) => {
    const n = new Nodelet();
    t.after(() => n.stop());
    n.start([`--container-runtime-endpoint=unix://${path.join(n.dir, 'nothing.sock')}`]);
    const err = await waitFor('/healthz to fail', async () => {
      try {
        await n.get('/healthz');
        return undefined;
      } catch (e) {
        // Before the agent socket is up the request fails too, for another reason: wait for the 500.
        return /HTTP 500/.test(String(e)) ? String(e) : undefined;
      }
    });
    assert.match(err, /HTTP 500: container runtime is down: cannot reach the container runtime at unix:\/\/.*nothing\.sock/);
    assert.equal(n.proc?.exitCode, null);
  });
});
