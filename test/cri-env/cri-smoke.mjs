// Smoke check of a containerd started by containerd-env.sh, over the real CRI gRPC API.
// usage: node test/cri-env/cri-smoke.mjs DIR      (DIR as given to containerd-env.sh start)
// Checks: Version/Status, ImageStatus of both images, a host-network pod with a container (log + ExecSync),
// a pod on the CNI bridge (IP in the subnet, one HTTP GET from the host to the pod), and that stopping
// and removing the pods leaves no veth or IP allocation behind. Exits non-zero on the first failure.
import { readFileSync, readdirSync, mkdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const dir = path.resolve(process.argv[2] ?? '');
const env = Object.fromEntries(
  readFileSync(path.join(dir, 'env'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const here = path.dirname(fileURLToPath(import.meta.url));
const def = protoLoader.loadSync(path.join(here, 'cri-subset.proto'), { keepCase: false, longs: Number, enums: String, defaults: true });
const pkg = grpc.loadPackageDefinition(def).runtime.v1;
const rt = new pkg.RuntimeService(env.CONTAINERD_ENDPOINT, grpc.credentials.createInsecure());
const img = new pkg.ImageService(env.CONTAINERD_ENDPOINT, grpc.credentials.createInsecure());
const call = (client, method, req) =>
  new Promise((resolve, reject) =>
    client[method](req, { deadline: Date.now() + 60_000 }, (err, res) => (err ? reject(new Error(`${method}: ${err.message}`)) : resolve(res))),
  );
const timed = async (label, fn) => {
  const t0 = performance.now();
  const r = await fn();
  console.log(`  ${label}: ${(performance.now() - t0).toFixed(0)} ms`);
  return r;
};
const check = (cond, msg) => {
  if (!cond) throw new Error(`check failed: ${msg}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function runPod(name, network) {
  const logDir = path.join(dir, 'pod-logs', name);
  mkdirSync(logDir, { recursive: true });
  const config = {
    metadata: { name, uid: `uid-${name}-${process.pid}`, namespace: 'smoke', attempt: 0 },
    hostname: network === 'NODE' ? '' : name,
    logDirectory: logDir,
    linux: { securityContext: { namespaceOptions: { network, pid: 'CONTAINER', ipc: 'POD' } } },
  };
  const { podSandboxId } = await timed(`RunPodSandbox (${network === 'NODE' ? 'host network' : 'CNI bridge'})`, () =>
    call(rt, 'RunPodSandbox', { config }),
  );
  return { id: podSandboxId, config, logDir };
}

async function runContainer(pod, name, command) {
  const { containerId } = await timed(`CreateContainer ${name}`, () =>
    call(rt, 'CreateContainer', {
      podSandboxId: pod.id,
      sandboxConfig: pod.config,
      config: { metadata: { name }, image: { image: env.NODELET_CRI_BUSYBOX_IMAGE }, command, logPath: `${name}.log` },
    }),
  );
  await timed(`StartContainer ${name}`, () => call(rt, 'StartContainer', { containerId }));
  return containerId;
}

async function removePod(pod) {
  await timed('StopPodSandbox', () => call(rt, 'StopPodSandbox', { podSandboxId: pod.id }));
  await timed('RemovePodSandbox', () => call(rt, 'RemovePodSandbox', { podSandboxId: pod.id }));
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

console.log(`CRI smoke against ${env.CONTAINERD_ENDPOINT}`);
const v = await call(rt, 'Version', { version: 'v1' });
console.log(`  runtime ${v.runtimeName} ${v.runtimeVersion}, CRI ${v.runtimeApiVersion}`);
const st = await call(rt, 'Status', {});
console.log(`  conditions: ${st.status.conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ')}`);
check(st.status.conditions.every((c) => c.status), 'all runtime conditions true');

for (const ref of [env.NODELET_CRI_BUSYBOX_IMAGE, env.NODELET_CRI_PAUSE_IMAGE]) {
  const r = await call(img, 'ImageStatus', { image: { image: ref } });
  check(r.image, `ImageStatus finds ${ref}`);
  console.log(`  ImageStatus ${ref}: id ${r.image.id.slice(0, 19)}… tags ${r.image.repoTags.join(',')} size ${r.image.size}`);
}
const missing = await call(img, 'ImageStatus', { image: { image: 'nodelet.test/absent:1' } });
check(!missing.image, 'ImageStatus of an absent image is empty');

// 1. Host network pod.
{
  const pod = await runPod('hostnet', 'NODE');
  const c = await runContainer(pod, 'main', ['sh', '-c', 'echo hello-from-container; exec sleep 3600']);
  const ex = await timed('ExecSync', () => call(rt, 'ExecSync', { containerId: c, cmd: ['sh', '-c', 'echo hi; id -u'], timeout: 10 }));
  check(ex.exitCode === 0 && ex.stdout.toString() === 'hi\n0\n', `ExecSync output ${JSON.stringify(ex.stdout.toString())}`);
  const cs = await call(rt, 'ContainerStatus', { containerId: c });
  check(cs.status.state === 'CONTAINER_RUNNING', `container running (${cs.status.state})`);
  let log = '';
  for (let i = 0; i < 40 && !log.includes('hello-from-container'); i++) {
    await sleep(50);
    log = existsSync(path.join(pod.logDir, 'main.log')) ? readFileSync(path.join(pod.logDir, 'main.log'), 'utf8') : '';
  }
  check(log.includes('hello-from-container'), `container log has the line (${JSON.stringify(log)})`);
  console.log(`  log line: ${log.trim()}`);
  await removePod(pod);
}

// 2. Pod on the CNI bridge.
{
  const pod = await runPod('bridged', 'POD');
  const s = await call(rt, 'PodSandboxStatus', { podSandboxId: pod.id });
  const ip = s.status.network?.ip ?? '';
  console.log(`  pod IP: ${ip} (subnet ${env.NODELET_CRI_SUBNET})`);
  const prefix = env.NODELET_CRI_SUBNET.split('.').slice(0, 3).join('.') + '.';
  check(ip.startsWith(prefix), 'pod IP in the CNI subnet');
  const c = await runContainer(pod, 'web', ['sh', '-c', 'echo pong > /tmp/index.html; exec httpd -f -p 8080 -h /tmp']);
  const ex = await call(rt, 'ExecSync', { containerId: c, cmd: ['ip', '-4', '-o', 'addr', 'show', 'eth0'], timeout: 10 });
  console.log(`  in pod: ${ex.stdout.toString().trim().replace(/\s+/g, ' ')}`);
  let res;
  for (let i = 0; i < 40; i++) {
    try {
      res = await httpGet(`http://${ip}:8080/index.html`);
      break;
    } catch {
      await sleep(50);
    }
  }
  check(res?.status === 200 && res.body === 'pong\n', `host -> pod HTTP (${JSON.stringify(res)})`);
  console.log(`  host -> pod http://${ip}:8080: ${res.status} ${res.body.trim()}`);
  const veths = () => execFileSync('ip', ['-o', 'link', 'show', 'master', env.NODELET_CRI_BRIDGE], { encoding: 'utf8' }).trim();
  console.log(`  veths on ${env.NODELET_CRI_BRIDGE}: ${veths().split('\n').filter(Boolean).length}`);
  await removePod(pod);
  check(veths() === '', `no veth left on ${env.NODELET_CRI_BRIDGE}`);
  const ipam = path.join(dir, 'cni-ipam', 'nodelet-e2e');
  const leased = existsSync(ipam) ? readdirSync(ipam).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
  check(leased.length === 0, `no IP lease left (${leased})`);
  console.log('  after removal: no veth, no IP lease');
}
console.log('cri-smoke: ok');
rt.close();
img.close();
