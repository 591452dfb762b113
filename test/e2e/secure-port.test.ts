/**
 * End-to-end: the authenticated port (--port) of the real nodelet. Tokens from a --token-auth-file,
 * client certificates from a CA made with openssl, the self-signed serving certificate it makes in
 * --root-dir/pki, /run in a real container, /runningpods/, and the real kubectl with a token.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { httpsRequest, type HttpsResult, makeCA, makeClientCert, noOpenssl } from '../../src/server/tls/testing.js';
import { freePort, marker, Nodelet, NODE, pgrep, waitFor } from './harness.js';

const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';
const TOKEN = 'e2e-token-0123456789';
const BEARER = { authorization: `Bearer ${TOKEN}` };

type T = { after: (fn: () => void | Promise<void>) => void; skip: (why: string) => void };

interface SecureNode {
  n: Nodelet;
  port: number;
  args: string[];
  call(urlPath: string, opts?: Parameters<typeof httpsRequest>[2]): Promise<HttpsResult>;
}

/** A nodelet with its authenticated port on a free port, taking TOKEN and certificates of `caFile`. */
async function secureNode(t: T, extra: (n: Nodelet) => string[] = () => []): Promise<SecureNode> {
  const n = new Nodelet();
  t.after(() => n.stop());
  const tokens = path.join(n.dir, 'tokens.csv');
  writeFileSync(tokens, `# e2e\n${TOKEN},alice,1001,"admins"\n`, { mode: 0o600 });
  const port = await freePort();
  const args = [`--port=${port}`, `--token-auth-file=${tokens}`, ...extra(n)];
  n.start(args);
  const node: SecureNode = { n, port, args, call: (p, o) => httpsRequest(port, p, o) };
  await waitFor('the authenticated port to answer', async () => body(await node.call('/healthz', { headers: BEARER })) === 'ok');
  return node;
}

function body(r: HttpsResult): string {
  if ('error' in r) throw new Error(r.error);
  return r.body;
}

function code(r: HttpsResult): number | string {
  return 'error' in r ? r.error : r.status;
}

/** A pod `web` whose container has FOO in its environment and sleeps as `sleep <mark>`. */
function webPod(mark: string, foo: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    env: [{name: FOO, value: ${JSON.stringify(foo)}}]
    command: ["sh", "-c", "exec sleep ${mark}"]
`;
}

test('the authenticated port: 401 without credentials or with a wrong token, pods for a token or a client certificate of the CA', async (t) => {
  const skip = noOpenssl();
  if (skip) return t.skip(skip);
  let ca!: ReturnType<typeof makeCA>;
  const s = await secureNode(t, (n) => {
    ca = makeCA(n.dir, 'client-ca');
    return [`--client-ca-file=${ca.certFile}`];
  });
  const m = s.n.track(marker());
  s.n.write('web.yaml', webPod(m, 'x'));
  await waitFor('the pod running', () => pgrep(`sleep ${m}`).length === 1);

  const none = await s.call('/pods');
  assert.equal(code(none), 401);
  assert.equal(JSON.parse(body(none)).reason, 'Unauthorized');
  assert.equal(code(await s.call('/pods', { headers: { authorization: 'Bearer wrong' } })), 401);
  const names = (r: HttpsResult) => (JSON.parse(body(r)) as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name);
  assert.deepEqual(names(await s.call('/pods', { headers: BEARER })), [`web-${NODE}`]);
  assert.deepEqual(names(await s.call('/pods', makeClientCert(s.n.dir, ca, 'bob', ['ops']))), [`web-${NODE}`]);
  assert.equal(code(await s.call('/pods', makeClientCert(s.n.dir, makeCA(s.n.dir, 'other-ca'), 'mallory'))), 401);
  assert.match(s.n.output, new RegExp(`Serving the authenticated API.*https://127\\.0\\.0\\.1:${s.port}`));
});

test('the authenticated port: anonymous-auth=true serves requests without credentials', async (t) => {
  const s = await secureNode(t, () => ['--anonymous-auth=true']);
  assert.equal(body(await s.call('/healthz')), 'ok');
  assert.equal(code(await s.call('/pods')), 200);
  assert.equal(code(await s.call('/pods', { headers: { authorization: 'Bearer wrong' } })), 401);
  assert.match(s.n.output, /Anonymous requests are served on the authenticated port/);
});

test('the authenticated port: its self-signed certificate is made once under --root-dir/pki (key 0600) and reused at the next start', async (t) => {
  const s = await secureNode(t);
  const certFile = path.join(s.n.rootDir, 'pki', 'nodelet.crt');
  const keyFile = path.join(s.n.rootDir, 'pki', 'nodelet.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  // A client pinning it (kubectl --certificate-authority) accepts it for 127.0.0.1.
  assert.equal(body(await s.call('/healthz', { headers: BEARER, ca: cert })), 'ok');
  assert.match(s.n.output, /self-signed, generated/);

  await s.n.kill('SIGTERM');
  s.n.output = '';
  s.n.start(s.args);
  await waitFor('the authenticated port to answer again', async () => body(await s.call('/healthz', { headers: BEARER, ca: cert })) === 'ok');
  assert.equal(readFileSync(certFile, 'utf8'), cert);
  assert.equal(readFileSync(keyFile, 'utf8'), key);
  assert.match(s.n.output, /self-signed, reused/);
});

test('the authenticated port: /run runs in the container’s environment, cuts a command at its timeout and bounds its output; /runningpods/ lists the pod', async (t) => {
  const s = await secureNode(t);
  const m = s.n.track(marker());
  const foo = `bar-${m}`;
  s.n.write('web.yaml', webPod(m, foo));
  await waitFor('the pod running', () => pgrep(`sleep ${m}`).length === 1);
  const pod = `web-${NODE}`;
  const run = (cmd: string, query = '') =>
    s.call(`/run/default/${pod}/main?cmd=${encodeURIComponent(cmd)}${query}`, { method: 'POST', headers: BEARER });
  await waitFor('/run to find the container running', async () => code(await run('true')) === 200);

  assert.equal(body(await run('printenv FOO')), `${foo}\n`);
  const uid = (JSON.parse(body(await s.call('/pods', { headers: BEARER }))) as { items: { metadata: { uid: string } }[] }).items[0]!.metadata.uid;
  const viaUid = await s.call(`/run/default/${pod}/${uid}/main`, {
    method: 'POST',
    headers: { ...BEARER, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'cmd=printenv+FOO',
  });
  assert.equal(body(viaUid), `${foo}\n`);

  const failed = await run('ls /nonexistent-dir');
  assert.equal(code(failed), 500);
  assert.match(body(failed), /^command 'ls \/nonexistent-dir' exited with [12]: .*nonexistent-dir/s);

  const slow = s.n.track(marker());
  const cut = await run(`sleep ${slow}`, '&timeout=1');
  assert.equal(code(cut), 500);
  assert.match(body(cut), new RegExp(`^command "sleep ${slow}" timed out after 1s and was killed`));
  await waitFor('the timed-out command gone', () => pgrep(`sleep ${slow}`).length === 0);

  const huge = await run('seq 1 3000000');
  assert.equal(code(huge), 200);
  assert.ok(body(huge).startsWith('1\n2\n3\n'));
  assert.ok(Buffer.byteLength(body(huge)) <= 1024 * 1024 + 200, `bounded: ${Buffer.byteLength(body(huge))} bytes`);

  const running = JSON.parse(body(await s.call('/runningpods/', { headers: BEARER }))) as {
    kind: string;
    items: { metadata: { name: string; namespace: string; uid: string }; spec: { containers: { name: string; image: string }[] } }[];
  };
  assert.equal(running.kind, 'PodList');
  const web = running.items.find((p) => p.metadata.name === pod);
  assert.ok(web, JSON.stringify(running));
  assert.deepEqual(web.metadata, { name: pod, namespace: 'default', uid, creationTimestamp: null });
  assert.deepEqual(web.spec.containers.map((c) => c.name), ['main']);
});

test('the authenticated port: the real kubectl lists pods with a token, and is refused with a wrong one', async (t) => {
  const s = await secureNode(t);
  const m = s.n.track(marker());
  s.n.write('web.yaml', webPod(m, 'x'));
  await waitFor('the pod running', () => pgrep(`sleep ${m}`).length === 1);
  const kubeconfig = path.join(s.n.dir, 'kubeconfig');
  writeFileSync(kubeconfig, '');
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: s.n.dir };
  const kubectl = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(KUBECTL, [`--server=https://127.0.0.1:${s.port}`, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  await waitFor('kubectl to see the pod Running', async () => {
    const r = await kubectl([`--token=${TOKEN}`, '--insecure-skip-tls-verify', 'get', 'pods']);
    return r.code === 0 && new RegExp(`^web-${NODE}\\s+1/1\\s+Running`, 'm').test(r.stdout);
  });
  // Pinned to the self-signed certificate instead of skipping verification.
  const pinned = await kubectl([`--token=${TOKEN}`, `--certificate-authority=${path.join(s.n.rootDir, 'pki', 'nodelet.crt')}`, 'get', 'pods', '-o', 'name']);
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.equal(pinned.stdout.trim(), `pod/web-${NODE}`);
  // (Without any credentials kubectl would prompt for a user name on its stdin instead.)
  const refused = await kubectl(['--token=wrong', '--insecure-skip-tls-verify', 'get', 'pods']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /You must be logged in to the server \(Unauthorized\)/);
});
