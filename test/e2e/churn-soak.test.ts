/**
 * Churn soak (crash-safety issue, item 4): a seeded driver rewrites, renames and deletes manifests
 * many times a second for NODELET_SOAK_SECONDS (default 8; `npm run test:soak` runs 60), then the
 * running set must converge to exactly what the directory says, with no process, file handle or
 * memory left behind. Replay a failure with NODELET_SOAK_SEED=<seed printed at the start>.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { marker, Nodelet, NODE, pgrep, sleepPod, waitFor } from './harness.js';

const SECONDS = Number(process.env.NODELET_SOAK_SECONDS ?? 8);
const SEED = process.env.NODELET_SOAK_SEED ? Number(process.env.NODELET_SOAK_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
/** Actions the driver aims for per second (the floor we assert is 20). */
const RATE = 40;
const WARMUP_MS = 2_000;
const POD_POOL = Array.from({ length: 20 }, (_, i) => `churn-${String(i).padStart(2, '0')}`);
const BASES = Array.from({ length: 30 }, (_, i) => `f${String(i).padStart(2, '0')}`);
const EXTS = ['.yaml', '.yml', '.json', '.manifest'];
/** Names that only ever hold bad manifests, so no "last good pod" from an earlier good file can linger there. */
const BAD_NAMES = Array.from({ length: 5 }, (_, i) => `bad-${i}.yaml`);
/** Backup-like names of a manifest file: nodelet must never load them. */
const JUNK: ((f: string) => string)[] = [(f) => `${f}.bak`, (f) => `${f}~`, (f) => `.${f}.swp`, (f) => `.${f}`, (f) => `#${f}#`, (f) => `${f}.orig`];
const CONVERGE_MS = 180_000;
const FD_SLACK = 10;
/** `9<our pid>`: every marker() of this process starts with it. */
const MARK_PREFIX = marker().slice(0, -3);

const execFileP = promisify(execFile);

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Entry =
  /** A good manifest of `pod`; `corrupt` = bad content written over it (the last good pod may still be in force). */
  | { kind: 'good'; pod: string; mark: string; corrupt: boolean }
  | { kind: 'bad' }
  | { kind: 'junk' };

function jsonPod(name: string, mark: string, grace: number): string {
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: grace,
        containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', `echo started; exec sleep ${mark}`] }],
      },
    },
    null,
    2,
  )}\n`;
}

/** A manifest nodelet must refuse; `mark` is what would run if it were wrongly accepted. */
function badManifest(variant: number, name: string, mark: string): string {
  const good = sleepPod(name, mark);
  switch (variant % 8) {
    case 0:
      return `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}\nspec: [\n`;
    case 1:
      return good.replace('spec:\n', 'spec:\n  serviceAccountName: default\n');
    case 2:
      return good.replace('restartPolicy: Always', 'restartPolicy: Sometimes');
    case 3:
      return good.replace('kind: Pod', 'kind: Deployment');
    case 4:
      return good.replace(`  name: ${name}\n`, '  labels: {app: x}\n');
    case 5:
      return good.replace(`name: ${name}`, 'name: Bad_Name');
    case 6:
      return '';
    default:
      return '- just\n- a list\n';
  }
}

interface Proc {
  pid: number;
  mark: string;
}

/** Every process whose command line is `sleep <one of our markers>`, in one pgrep. */
async function ourSleeps(used: ReadonlySet<string>): Promise<Proc[]> {
  let out = '';
  try {
    out = (await execFileP('pgrep', ['-a', '-f', `^sleep ${MARK_PREFIX}[0-9]+$`], { encoding: 'utf8' })).stdout;
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  const procs: Proc[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\d+) sleep (\d+)$/.exec(line.trim());
    // Only markers we issued: another test run's markers may share our prefix.
    if (m && used.has(m[2]!)) procs.push({ pid: Number(m[1]), mark: m[2]! });
  }
  return procs;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rssKB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

test(`churn soak: ${SECONDS}s of manifest writes, edits, renames and deletes converge to the final directory`, { timeout: (SECONDS + 600) * 1000 }, async (t) => {
  console.log(`# churn soak: seed ${SEED} (replay with NODELET_SOAK_SEED=${SEED}), ${SECONDS}s`);
  t.diagnostic(`seed ${SEED} (replay with NODELET_SOAK_SEED=${SEED})`);
  const rnd = prng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

  const n = new Nodelet();
  t.after(() => n.stop());
  n.start();
  const pid = n.proc!.pid!;
  /** The per-node runtime supervisor: it spawns, reaps and logs the containers, so it is measured too. */
  const sup = () => n.supervisorPid();

  const files = new Map<string, Entry>();
  /** Files with a half-done in-place write: no other action touches them until it completes. */
  const pending = new Map<string, { fd: number; rest: string; dueAction: number }>();
  const used = new Set<string>();
  /** Markers that only ever appeared in ignored or invalid files: they must never run. */
  const neverRun = new Set<string>();
  const markToPod = new Map<string, string>();
  const counts: Record<string, number> = {};
  let actions = 0;
  const count = (what: string) => {
    counts[what] = (counts[what] ?? 0) + 1;
    actions++;
  };
  const fresh = (pod: string): string => {
    const m = n.track(marker());
    used.add(m);
    markToPod.set(m, pod);
    return m;
  };
  const full = (name: string) => path.join(n.manifests, name);
  const podsInUse = () => new Set([...files.values()].flatMap((e) => (e.kind === 'good' ? [e.pod] : [])));
  const free = (name: string) => !pending.has(name);

  /** Writes a good version of `pod` into `name`: atomically (rename) or in place in two steps. */
  const writeGood = (name: string, pod: string, atomic: boolean): void => {
    const mark = fresh(pod);
    const grace = 2 + Math.floor(rnd() * 2);
    const content = name.endsWith('.json') ? jsonPod(pod, mark, grace) : sleepPod(pod, mark, { grace });
    files.set(name, { kind: 'good', pod, mark, corrupt: false });
    if (atomic) return n.write(name, content);
    // Half the file now, the rest 1-3 actions later (~25-75 ms; counted in actions, not ms, so a seed
    // replays the same file operations): cut before `containers`, so no prefix is a valid pod.
    const cut = 1 + Math.floor(rnd() * (content.indexOf('containers') - 1));
    const fd = openSync(full(name), 'w');
    writeSync(fd, content.slice(0, cut));
    pending.set(name, { fd, rest: content.slice(cut), dueAction: actions + 1 + Math.floor(rnd() * 3) });
  };

  const finishPending = (all: boolean): void => {
    for (const [name, p] of pending) {
      if (!all && p.dueAction > actions) continue;
      writeSync(p.fd, p.rest);
      closeSync(p.fd);
      pending.delete(name);
    }
  };

  /** One random action on the directory. */
  const act = (): void => {
    const existing = [...files.keys()].filter(free);
    const goods = existing.filter((f) => files.get(f)!.kind === 'good');
    const r = rnd();
    if (r < 0.22) {
      // A new pod, sometimes written over another pod's file (which then goes away).
      const inUse = podsInUse();
      const idle = POD_POOL.filter((p) => !inUse.has(p));
      const name = pick(BASES) + pick(EXTS);
      if (idle.length === 0 || !free(name)) return act();
      writeGood(name, pick(idle), rnd() < 0.7);
      count('create');
    } else if (r < 0.47) {
      // A new version of a pod (also repairs a corrupt file).
      if (goods.length === 0) return act();
      const name = pick(goods);
      writeGood(name, (files.get(name) as { pod: string }).pod, rnd() < 0.7);
      count('edit');
    } else if (r < 0.65) {
      // A rename: same content, new file, so a new UID; may replace another pod's file.
      if (goods.length === 0) return act();
      const from = pick(goods);
      const to = pick(BASES) + pick(EXTS);
      if (to === from || !free(to)) return act();
      renameSync(full(from), full(to));
      files.set(to, files.get(from)!);
      files.delete(from);
      count('rename');
    } else if (r < 0.8) {
      if (existing.length === 0) return act();
      const name = pick(existing);
      rmSync(full(name));
      files.delete(name);
      count('delete');
    } else if (r < 0.87) {
      // Backup-like files: a fresh valid pod under an ignored name, or an editor's `mv x.yaml x.yaml.bak`.
      const fromGood = goods.length > 0 && rnd() < 0.5 ? pick(goods) : undefined;
      const name = pick(JUNK)(fromGood ?? pick(BASES) + pick(EXTS));
      if (!free(name)) return act();
      if (fromGood) {
        renameSync(full(fromGood), full(name));
        files.delete(fromGood);
        count('rename-to-backup');
      } else {
        const mark = fresh('junk');
        neverRun.add(mark);
        n.write(name, sleepPod(pick(POD_POOL), mark));
        count('backup');
      }
      files.set(name, { kind: 'junk' });
    } else if (r < 0.93) {
      const name = pick(BAD_NAMES);
      if (!free(name)) return act();
      const mark = fresh('bad');
      neverRun.add(mark);
      n.write(name, badManifest(Math.floor(rnd() * 8), `bad-${name.slice(4, 5)}`, mark));
      files.set(name, { kind: 'bad' });
      count('bad');
    } else {
      // A bad edit of a good file: the last good pod stays in force until the file is fixed or deleted.
      if (goods.length === 0) return act();
      const name = pick(goods);
      const e = files.get(name) as Extract<Entry, { kind: 'good' }>;
      const mark = fresh('bad');
      neverRun.add(mark);
      n.write(name, badManifest(Math.floor(rnd() * 8), e.pod, mark));
      e.corrupt = true;
      count('corrupt');
    }
  };

  /** Runs the driver for `ms`, while a sampler watches for processes that must never run. */
  const churn = async (ms: number) => {
    const t0 = Date.now();
    const before = actions;
    let sampling = true;
    const violations: string[] = [];
    let overlaps = 0;
    let samples = 0;
    const rss: { at: number; kb: number; sup: number }[] = [];
    const sampler = (async () => {
      while (sampling) {
        if (n.proc!.exitCode !== null || n.proc!.signalCode !== null) break;
        rss.push({ at: Date.now() - t0, kb: rssKB(pid), sup: sup() ? rssKB(sup()!) : 0 });
        const procs = await ourSleeps(used);
        samples++;
        for (const p of procs) if (neverRun.has(p.mark)) violations.push(`pid ${p.pid}: sleep ${p.mark}`);
        const perPod = new Map<string, number>();
        for (const p of procs) perPod.set(markToPod.get(p.mark)!, (perPod.get(markToPod.get(p.mark)!) ?? 0) + 1);
        for (const c of perPod.values()) if (c > 1) overlaps++;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    while (Date.now() - t0 < ms) {
      // Catch up to RATE even when timers fire late on a busy machine.
      const due = Math.floor(((Date.now() - t0) / 1000) * RATE) - (actions - before);
      for (let i = 0; i < due; i++) {
        finishPending(false);
        act();
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const elapsed = Date.now() - t0;
    finishPending(true);
    sampling = false;
    await sampler;
    assert.ok(n.proc!.exitCode === null && n.proc!.signalCode === null, `nodelet exited during the churn; seed ${SEED}:\n${n.output.slice(-4000)}`);
    assert.deepEqual(violations, [], 'a backup-named or invalid manifest ran');
    return { actions: actions - before, elapsed, samples, overlaps, rss };
  };

  /** Fixes or deletes every corrupt file, so the final directory says exactly which pods should run. */
  const settleDirectory = (): void => {
    finishPending(true);
    for (const [name, e] of [...files]) {
      if (e.kind !== 'good' || !e.corrupt) continue;
      if (rnd() < 0.5) writeGood(name, e.pod, true);
      else {
        rmSync(full(name));
        files.delete(name);
      }
    }
  };

  /** Waits until the running set, and /pods, are exactly the good files' pods; returns how long it took. */
  const converge = async (what: string): Promise<number> => {
    const t0 = Date.now();
    const want = new Map<string, string>(); // pod -> marker
    for (const e of files.values()) if (e.kind === 'good') want.set(e.pod, e.mark);
    let last = '';
    try {
      await waitFor(
        what,
        async () => {
          const procs = await ourSleeps(used);
          const byMark = new Map<string, number>();
          for (const p of procs) byMark.set(p.mark, (byMark.get(p.mark) ?? 0) + 1);
          const wrongProcs = [...byMark].filter(([m, c]) => c !== 1 || markToPod.get(m) === undefined || want.get(markToPod.get(m)!) !== m);
          const missing = [...want].filter(([, m]) => !byMark.has(m));
          const pods = await n.pods();
          const listed = pods.map((p) => `${p.metadata!.name}:${(p.spec!.containers[0]!.command ?? []).join(' ').match(/sleep (\d+)/)?.[1]}`).sort();
          const expected = [...want].map(([p, m]) => `${p}-${NODE}:${m}`).sort();
          last = JSON.stringify({ wrongProcs, missing, listed: listed.filter((x) => !expected.includes(x)), notListed: expected.filter((x) => !listed.includes(x)) });
          return wrongProcs.length === 0 && missing.length === 0 && listed.join() === expected.join();
        },
        CONVERGE_MS,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; seed ${SEED}; last difference ${last}; nodelet output tail:\n${n.output.slice(-4000)}`);
    }
    // The same through the harness's exact pgrep, marker by marker.
    for (const m of want.values()) assert.equal(pgrep(`sleep ${m}`).length, 1, `sleep ${m} runs once`);
    return Date.now() - t0;
  };

  // Warm-up: every pod once, a short churn, all pods again; then the empty directory.
  for (const [i, pod] of POD_POOL.entries()) writeGood(`${BASES[i]}.yaml`, pod, true);
  await converge('the warm-up pods');
  await churn(WARMUP_MS);
  settleDirectory();
  const inUse = podsInUse();
  for (const pod of POD_POOL.filter((p) => !inUse.has(p))) {
    const name = BASES.flatMap((b) => EXTS.map((e) => b + e)).find((f) => !files.has(f))!;
    writeGood(name, pod, true);
  }
  await converge('all pods after the warm-up');
  const supPid = await waitFor('the runtime supervisor', sup);
  const base = { fdFull: fdCount(pid), rssFull: rssKB(pid), supFd: fdCount(supPid), supRss: rssKB(supPid) };
  for (const name of [...files.keys()]) rmSync(full(name));
  files.clear();
  await converge('the empty directory after the warm-up');
  const baseEmpty = { fd: fdCount(pid), rss: rssKB(pid), supFd: fdCount(supPid) };

  // The soak.
  for (const k of Object.keys(counts)) delete counts[k];
  const soak = await churn(SECONDS * 1000);
  settleDirectory();
  const finalPods = [...files.values()].filter((e) => e.kind === 'good').length;
  const convergeMs = await converge('the running set to equal the final manifests');
  // V8 sizes its heap to the churn over the first tens of seconds (seen: heap total 20 -> 54 MB, RSS
  // 82 -> 107 MB by ~25 s, then flat through 150 s): a leak shows as growth after that, so the RSS
  // baseline is taken a third of the way into the soak, not right after the short warm-up.
  const rssBase = soak.rss.find((r) => r.at >= soak.elapsed / 3) ?? soak.rss.at(-1)!;
  const rssPeak = Math.max(...soak.rss.map((r) => r.kb));
  const supPeak = Math.max(...soak.rss.map((r) => r.sup));
  assert.ok(n.proc!.exitCode === null && n.proc!.signalCode === null, 'nodelet exited during the soak');
  assert.equal(sup(), supPid, 'the runtime supervisor was replaced during the soak');
  const end = { fd: fdCount(pid), rss: rssKB(pid), supFd: fdCount(supPid), supRss: rssKB(supPid) };
  for (const name of [...files.keys()]) rmSync(full(name));
  files.clear();
  const emptyMs = await converge('the empty directory at the end');
  const endEmpty = { fd: fdCount(pid), rss: rssKB(pid), supFd: fdCount(supPid) };

  const rate = soak.actions / (soak.elapsed / 1000);
  const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
  const figures = [
    `soak ${SECONDS}s: ${soak.actions} actions in ${(soak.elapsed / 1000).toFixed(1)} s = ${rate.toFixed(1)}/s (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `markers used ${used.size}, of which never-run ${neverRun.size}; final directory ${finalPods} pods`,
    `converged in ${(convergeMs / 1000).toFixed(1)} s (emptied in ${(emptyMs / 1000).toFixed(1)} s); sampler ${soak.samples} samples, ${soak.overlaps} with two processes of one pod name`,
    `nodelet fds: ${base.fdFull} after warm-up with 20 pods, ${end.fd} at the end with ${finalPods} pods; empty directory ${baseEmpty.fd} -> ${endEmpty.fd}`,
    `nodelet RSS: ${mb(base.rssFull)} after warm-up with 20 pods, ${mb(rssBase.kb)} at ${(rssBase.at / 1000).toFixed(1)} s into the soak, peak ${mb(rssPeak)}, ${mb(end.rss)} at the end; empty directory ${mb(baseEmpty.rss)} -> ${mb(endEmpty.rss)}`,
    `supervisor (pid ${supPid}) fds: ${base.supFd} after warm-up with 20 pods, ${end.supFd} at the end with ${finalPods} pods; empty directory ${baseEmpty.supFd} -> ${endEmpty.supFd}`,
    `supervisor RSS: ${mb(base.supRss)} after warm-up, ${mb(rssBase.sup)} at ${(rssBase.at / 1000).toFixed(1)} s into the soak, peak ${mb(supPeak)}, ${mb(end.supRss)} at the end`,
  ];
  for (const f of figures) t.diagnostic(f);

  assert.ok(rate >= 20, `only ${rate.toFixed(1)} actions/s`);
  assert.ok(end.fd <= base.fdFull + FD_SLACK, `fds grew: ${base.fdFull} with 20 pods after warm-up, ${end.fd} with ${finalPods} at the end`);
  assert.ok(endEmpty.fd <= baseEmpty.fd + FD_SLACK, `fds grew: ${baseEmpty.fd} -> ${endEmpty.fd} with an empty directory`);
  assert.ok(end.supFd <= base.supFd + FD_SLACK, `supervisor fds grew: ${base.supFd} with 20 pods after warm-up, ${end.supFd} with ${finalPods} at the end`);
  assert.ok(endEmpty.supFd <= baseEmpty.supFd + FD_SLACK, `supervisor fds grew: ${baseEmpty.supFd} -> ${endEmpty.supFd} with an empty directory`);
  const rssLimit = (kb: number) => Math.max(kb * 1.25, kb + 20 * 1024);
  assert.ok(end.rss <= rssLimit(rssBase.kb), `RSS grew: ${mb(rssBase.kb)} a third into the soak -> ${mb(end.rss)} at the end (limit ${mb(rssLimit(rssBase.kb))})`);
  assert.ok(end.supRss <= rssLimit(rssBase.sup), `supervisor RSS grew: ${mb(rssBase.sup)} a third into the soak -> ${mb(end.supRss)} at the end`);
});
