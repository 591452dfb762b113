import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, marker, Nodelet, pgrep, sleepPod, waitFor } from './harness.js';

// The audit applies to a nodelet running as root (issue 11); the tests run it as whoever runs them.
const skip = process.getuid?.() !== 0 && 'the manifest audit applies only when nodelet runs as root';

function fresh(t: { after: (fn: () => Promise<void>) => void }): Nodelet {
  const n = new Nodelet();
  t.after(() => n.stop());
  return n;
}

/** `nodelet validate` of `paths`: its exit status and stdout. */
function validate(...paths: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, 'validate', ...paths], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout + r.stderr };
}

/** Lines of nodelet's output that contain every one of `parts`. */
function linesWith(n: Nodelet, ...parts: string[]): string[] {
  return n.output.split('\n').filter((l) => parts.every((p) => l.includes(p)));
}

test('a group-writable manifest is refused with one clear line, and runs after chmod', { skip }, async (t) => {
  const n = fresh(t);
  const [a, b] = [n.track(marker()), n.track(marker())];
  n.write('web.yaml', sleepPod('web', a));
  const web = path.join(n.manifests, 'web.yaml');
  chmodSync(web, 0o664);
  n.write('owned.yaml', sleepPod('owned', b));
  const owned = path.join(n.manifests, 'owned.yaml');
  chownSync(owned, 1000, 1000);
  n.start();

  await n.waitForOutput('Insecure manifest, no pod started');
  await waitFor('both refusals', () => linesWith(n, 'Insecure manifest, no pod started').length === 2);
  const [line] = linesWith(n, 'Insecure manifest', `${web}: insecure manifest`);
  assert.ok(line, n.output);
  assert.match(line, /writable by group \(mode 0664, owner uid 0\)/);
  assert.ok(line.includes(`fix: chmod go-w ${web}`), line);
  const [ownedLine] = linesWith(n, 'Insecure manifest', `${owned}: insecure manifest`);
  assert.match(ownedLine!, /owned by uid 1000, not root \(mode 0644, owner uid 1000\)/);
  assert.ok(ownedLine!.includes(`fix: chown root ${owned}`), ownedLine);
  assert.equal((await n.pods()).length, 0);
  assert.equal(pgrep(`sleep ${a}`).length + pgrep(`sleep ${b}`).length, 0);

  // nodelet validate says the same, and fails.
  const v = validate(n.manifests);
  assert.equal(v.status, 1, v.stdout);
  assert.ok(v.stdout.includes(`${web}: insecure manifest: writable by group (mode 0664, owner uid 0)`), v.stdout);
  assert.ok(v.stdout.includes(`${owned}: insecure manifest: owned by uid 1000`), v.stdout);
  assert.equal(validate('--allow-insecure-manifests', n.manifests).status, 0);

  // A chmod alone (no new content) is picked up, as is a chown.
  chmodSync(web, 0o644);
  chownSync(owned, 0, 0);
  await waitFor('both pods after the fix', () => pgrep(`sleep ${a}`).length === 1 && pgrep(`sleep ${b}`).length === 1);
  assert.equal(linesWith(n, 'Insecure manifest', web).length, 1, 'reported once, not at every re-list');
  assert.equal(validate(n.manifests).status, 0);
});

test('a symlink to a world-writable file is refused, and runs once the target is fixed', { skip }, async (t) => {
  const n = fresh(t);
  const m = n.track(marker());
  const elsewhere = path.join(n.dir, 'elsewhere');
  mkdirSync(elsewhere);
  chmodSync(elsewhere, 0o755);
  const real = path.join(elsewhere, 'real.yaml');
  writeFileSync(real, sleepPod('linked', m));
  chmodSync(real, 0o666);
  symlinkSync(real, path.join(n.manifests, 'linked.yaml'));
  // The target is outside the watched directory: only the periodic re-list sees its chmod.
  n.start(['--file-check-frequency=1s']);

  await n.waitForOutput('Insecure manifest, no pod started');
  const [line] = linesWith(n, 'Insecure manifest', `${real}: insecure manifest (the target of the symlink ${path.join(n.manifests, 'linked.yaml')})`);
  assert.ok(line, n.output);
  assert.match(line, /writable by group and others \(mode 0666, owner uid 0\)/);
  assert.ok(line.includes(`fix: chmod go-w ${real}`), line);
  assert.equal(pgrep(`sleep ${m}`).length, 0);
  assert.equal(validate(path.join(n.manifests, 'linked.yaml')).status, 1);

  chmodSync(real, 0o644);
  await waitFor('the pod once the target is fixed', () => pgrep(`sleep ${m}`).length === 1);
});

test('a running pod whose file becomes group-writable keeps running, its edit waits for the chmod', { skip }, async (t) => {
  const n = fresh(t).start();
  const [a, b, probe] = [n.track(marker()), n.track(marker()), n.track(marker())];
  n.write('etcd.yaml', sleepPod('etcd', a));
  await waitFor('the pod', () => pgrep(`sleep ${a}`).length === 1);
  const [pid] = pgrep(`sleep ${a}`);
  const uid = (await n.pod('etcd'))!.metadata!.uid;
  const etcd = path.join(n.manifests, 'etcd.yaml');

  chmodSync(etcd, 0o664);
  await n.waitForOutput('Insecure manifest, keeping the last good pod');
  // Edited in place: the file keeps its group-writable mode.
  writeFileSync(etcd, sleepPod('etcd', b));
  // A file written after the edit: once its pod runs, a re-list has seen (and refused) the edit too.
  n.write('probe.yaml', sleepPod('probe', probe));
  await waitFor('the later pod', () => pgrep(`sleep ${probe}`).length === 1);
  assert.deepEqual(pgrep(`sleep ${a}`), [pid], 'the running pod was touched');
  assert.equal(pgrep(`sleep ${b}`).length, 0, 'the edit of an insecure file was applied');
  assert.equal((await n.pod('etcd'))!.metadata!.uid, uid);
  assert.equal(linesWith(n, 'Insecure manifest', etcd).length, 1);

  chmodSync(etcd, 0o644);
  await waitFor('the edit applied after the fix', () => pgrep(`sleep ${b}`).length === 1);
  await waitFor('the old pod gone', () => pgrep(`sleep ${a}`).length === 0);
});

test('--allow-insecure-manifests runs them and warns once; plain http to another host warns once', { skip }, async (t) => {
  const n = fresh(t);
  const m = n.track(marker());
  chmodSync(n.manifests, 0o777);
  n.write('open.yaml', sleepPod('open', m));
  chmodSync(path.join(n.manifests, 'open.yaml'), 0o666);
  // .invalid never resolves (RFC 6761): the fetch fails fast, the warning is about the scheme and host.
  n.start(['--allow-insecure-manifests', '--manifest-url=http://nodelet-e2e.invalid/pods']);
  await waitFor('the pod', () => pgrep(`sleep ${m}`).length === 1);
  await n.waitForOutput('Manifest URL is plain http to another host');
  assert.equal(linesWith(n, 'Manifest audit disabled').length, 1, n.output);
  assert.match(linesWith(n, 'Manifest audit disabled')[0]!, /flag --allow-insecure-manifests/);
  assert.equal(linesWith(n, 'Manifest URL is plain http').length, 1);
  assert.equal(linesWith(n, 'Insecure manifest').length, 0);
});
