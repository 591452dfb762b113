import assert from 'node:assert/strict';
import { chmodSync, closeSync, linkSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { ConfigSeenAnnotation, type Pod } from '../api/types.js';
import { FakeClock } from '../util/clock.js';
import { createFileSource } from './file-source.js';
import type { ManifestAuditPolicy } from './manifest-audit.js';

const pod = (name: string, command = 'sleep 1') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  containers:
  - {name: main, image: busybox, command: [sh, -c, ${JSON.stringify(command)}]}
`;

/** A file source over a fresh 0755 directory, with its snapshots and log lines; re-lists only when told. */
function setup(audit: ManifestAuditPolicy | undefined, resyncMs = 20_000, clockAt = Date.now() + 3_600_000) {
  const root = mkdtempSync(path.join(tmpdir(), 'nodelet-file-source-'));
  const dir = path.join(root, 'manifests');
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  const logs: { msg: string; err?: string; file?: string }[] = [];
  const logger = pino({ level: 'info', base: undefined }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  // By default far ahead of every file's mtime: files are judged at once, not left to settle.
  const clock = new FakeClock(clockAt);
  let current: Pod[] = [];
  const source = createFileSource({ path: dir, nodeName: 'n1', clock, logger, resyncMs, onSnapshot: (pods) => (current = pods), audit });
  const write = (name: string, content: string, mode = 0o644) => {
    const tmp = path.join(root, `${name}.tmp`);
    writeFileSync(tmp, content);
    chmodSync(tmp, mode);
    renameSync(tmp, path.join(dir, name));
  };
  return {
    dir,
    clock,
    source,
    logs,
    write,
    pods: () => current.map((p) => `${p.metadata!.name}:${p.spec!.containers[0]!.command!.at(-1)}`),
    /** The config.seen of a pod, in ms since the epoch. */
    seenAt: (name: string) => Date.parse(current.find((p) => p.metadata!.name === name)?.metadata!.annotations![ConfigSeenAnnotation] ?? ''),
    cleanup: () => {
      source.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Turns the injected clock `stepMs` at a time (a debounce, far from any settle time) until `done`. */
async function pump(t: ReturnType<typeof setup>, what: string, done: () => boolean, stepMs = 5, deadline = Date.now() + 30_000): Promise<void> {
  while (!done()) {
    assert.ok(Date.now() < deadline, `${what}: ${t.pods().join(' ')}`);
    t.clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Turns the injected clock `n` times by `stepMs`, noting the pods after each turn in `seen`. */
async function turns(t: ReturnType<typeof setup>, n: number, stepMs: number, seen: string[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    t.clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 10));
    seen.push(t.pods().join());
  }
}

/**
 * Runs the pass for a removal just made, the clock standing still while it runs (a busy machine must
 * not spend the 40 ms a gone file is kept for): waits for the event's 5 ms debounce, fires it, then
 * waits until the pass has dropped the pod or set its 40 ms timer to look again.
 */
async function removalPass(t: ReturnType<typeof setup>): Promise<void> {
  await pump(t, 'no watch event for the removal', () => t.clock.dueIn().some((ms) => ms > 0 && ms <= 5), 0);
  t.clock.advance(5);
  await pump(t, 'no pass after the removal', () => t.pods().length === 0 || t.clock.dueIn().some((ms) => ms > 5 && ms <= 40), 0);
}

describe('file source audit', () => {
  // Files are owned by whoever runs the tests: the audit is exercised as root and as anyone else.
  const audit: ManifestAuditPolicy = { runningAsRoot: true, ownerUid: process.getuid?.() ?? 0, allowInsecure: false };
  let cleanup: () => void = () => undefined;
  afterEach(() => cleanup());

  it('never runs a file insecure from the start, and runs it once chmod fixes it', async () => {
    const t = setup(audit);
    cleanup = t.cleanup;
    t.write('web.yaml', pod('web'), 0o664);
    await t.source.resync();
    assert.deepEqual(t.pods(), []);
    const [report] = t.source.report();
    assert.match(report!.error!, /web\.yaml: insecure manifest: writable by group \(mode 0664, owner uid \d+\);.*fix: chmod go-w /);
    const lines = t.logs.filter((l) => l.msg === 'Insecure manifest, no pod started');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.err, report!.error);
    await t.source.resync();
    assert.equal(t.logs.filter((l) => l.msg.startsWith('Insecure')).length, 1, 'logged once, not at every re-list');

    // A chmod changes no content, size or mtime: the re-list must notice it all the same.
    chmodSync(path.join(t.dir, 'web.yaml'), 0o644);
    await t.source.resync();
    assert.deepEqual(t.pods(), ['web-n1:sleep 1']);
    assert.equal(t.source.report()[0]!.error, undefined);
  });

  it('keeps the pod of a file that becomes insecure, refuses its edits, and applies them once fixed', async () => {
    const t = setup(audit);
    cleanup = t.cleanup;
    t.write('web.yaml', pod('web'));
    await t.source.resync();
    assert.deepEqual(t.pods(), ['web-n1:sleep 1']);

    t.write('web.yaml', pod('web', 'sleep 2'), 0o646);
    await t.source.resync();
    assert.deepEqual(t.pods(), ['web-n1:sleep 1']);
    assert.equal(t.source.report()[0]!.pod!.spec!.containers[0]!.command!.at(-1), 'sleep 1');
    assert.match(t.source.report()[0]!.error!, /writable by others \(mode 0646/);
    assert.equal(t.logs.filter((l) => l.msg === 'Insecure manifest, keeping the last good pod').length, 1);

    chmodSync(path.join(t.dir, 'web.yaml'), 0o600);
    await t.source.resync();
    assert.deepEqual(t.pods(), ['web-n1:sleep 2']);
  });

  it('refuses every file of an insecure directory with one log line, keeping running pods', async () => {
    const t = setup(audit);
    cleanup = t.cleanup;
    t.write('a.yaml', pod('a'));
    await t.source.resync();
    t.write('b.yaml', pod('b'));
    chmodSync(t.dir, 0o775);
    await t.source.resync();
    await t.source.resync();
    assert.deepEqual(t.pods(), ['a-n1:sleep 1']);
    const lines = t.logs.filter((l) => l.msg.startsWith('Insecure'));
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.match(lines[0]!.err!, /insecure manifest directory: writable by group \(mode 0775/);
    assert.deepEqual(
      t.source.report().map((r) => r.error),
      [lines[0]!.err, lines[0]!.err],
    );

    chmodSync(t.dir, 0o755);
    await t.source.resync();
    assert.deepEqual(t.pods(), ['a-n1:sleep 1', 'b-n1:sleep 1']);
    assert.ok(t.logs.some((l) => l.msg === 'Static pod directory is secure again'));
  });

  it('runs everything with --allow-insecure-manifests, and without an audit', async () => {
    for (const policy of [{ ...audit, allowInsecure: true }, { ...audit, runningAsRoot: false }, undefined]) {
      const t = setup(policy);
      chmodSync(t.dir, 0o777);
      t.write('web.yaml', pod('web'), 0o666);
      await t.source.resync();
      assert.deepEqual(t.pods(), ['web-n1:sleep 1']);
      t.cleanup();
    }
  });
});

describe('file source watch', () => {
  let cleanup: () => void = () => undefined;
  afterEach(() => cleanup());

  it('reads again only the file a watch event names; the next full re-list reads the rest', async () => {
    // No periodic re-list within the test, however long the event takes to come.
    const t = setup(undefined, 24 * 3_600_000);
    cleanup = t.cleanup;
    t.write('a.yaml', pod('a'));
    t.write('b.yaml', pod('b'));
    await t.source.start();
    assert.deepEqual(t.pods(), ['a-n1:sleep 1', 'b-n1:sleep 1']);
    // A write through a hard link outside the directory changes b.yaml without an event in it (inotify
    // reports a change through the name it was made by): only a full re-list can see it.
    const outside = path.join(path.dirname(t.dir), 'b-link.yaml');
    linkSync(path.join(t.dir, 'b.yaml'), outside);
    writeFileSync(outside, pod('b', 'sleep 2'));
    t.write('a.yaml', pod('a', 'sleep 2'));
    const deadline = Date.now() + 30_000;
    // The debounce runs on the injected clock.
    await pump(t, 'no pass after the event', () => t.pods()[0] === 'a-n1:sleep 2', 20, deadline);
    assert.deepEqual(t.pods(), ['a-n1:sleep 2', 'b-n1:sleep 1']);
    await t.source.resync();
    assert.deepEqual(t.pods(), ['a-n1:sleep 2', 'b-n1:sleep 2']);

    // A removal named by an event drops the file's pod without a full re-list.
    rmSync(path.join(t.dir, 'a.yaml'));
    await pump(t, 'no pass after the removal', () => t.pods().length === 1, 20, deadline);
    assert.deepEqual(t.pods(), ['b-n1:sleep 2']);
  });

  it('keeps answering events after a pass that finds its work already done', async () => {
    const t = setup(undefined, 24 * 3_600_000);
    cleanup = t.cleanup;
    await t.source.start();
    const deadline = Date.now() + 30_000;
    const timers = t.clock.pending(); // the periodic re-list
    t.write('a.yaml', pod('a'));
    // The event's debounce is set; a full re-list then does its work before it fires.
    await pump(t, 'no watch event for a.yaml', () => t.clock.pending() !== timers, 0, deadline);
    await t.source.resync();
    assert.deepEqual(t.pods(), ['a-n1:sleep 1']);
    t.clock.advance(20); // the debounced pass: nothing left to do
    t.write('b.yaml', pod('b'));
    await pump(t, 'b.yaml never read', () => t.pods().length === 2, 20, deadline);
  });

  it("gives a pod the time of the first watch event naming its file as config.seen, not the pass's", async () => {
    const t = setup(undefined, 24 * 3_600_000);
    cleanup = t.cleanup;
    await t.source.start();
    const deadline = Date.now() + 30_000;
    // The clock stands still until the event's 5 ms debounce is set: the event came at this time.
    const debounceSet = () => t.clock.dueIn().includes(5);
    t.write('a.yaml', pod('a'));
    await pump(t, 'no watch event for a.yaml', debounceSet, 0, deadline);
    const aNamedAt = t.clock.now();
    // The pass runs later (a pass still busy with earlier files would make it seconds).
    t.clock.advance(1_000);
    await pump(t, 'a.yaml never read', () => t.pods().length === 1, 0, deadline);
    assert.equal(t.seenAt('a-n1'), aNamedAt);

    // Named twice before its pass: the first event counts.
    t.write('b.yaml', pod('b'));
    await pump(t, 'no watch event for b.yaml', debounceSet, 0, deadline);
    const bNamedAt = t.clock.now();
    t.clock.advance(3);
    t.write('b.yaml', pod('b', 'sleep 2'));
    await pump(t, 'no second watch event for b.yaml', debounceSet, 0, deadline);
    t.clock.advance(1_000);
    await pump(t, 'b.yaml never read', () => t.pods().includes('b-n1:sleep 2'), 0, deadline);
    assert.equal(t.seenAt('b-n1'), bNamedAt);
    assert.equal(t.seenAt('a-n1'), aNamedAt, 'a pod already seen keeps its time');
  });
});

describe('file source settle time', () => {
  let cleanup: () => void = () => undefined;
  afterEach(() => cleanup());

  it('judges a file renamed in at once, and one written in place only once it has been quiet', async () => {
    // An hour behind every file's mtime: a file left to settle is not read until the test moves time on.
    const t = setup(undefined, 24 * 3_600_000, Date.now() - 3_600_000);
    cleanup = t.cleanup;
    await t.source.start();
    t.write('fast.yaml', pod('fast'));
    await pump(t, 'fast.yaml was left to settle', () => t.pods().length === 1);

    // Written in place (create, write, close before any event is handled: one debounced pass).
    const fd = openSync(path.join(t.dir, 'slow.yaml'), 'w');
    writeSync(fd, pod('slow'));
    closeSync(fd);
    // Its settle timer: an hour away (the clock is an hour behind its mtime), not the debounce's 5 ms
    // nor the re-list's day.
    await pump(t, 'slow.yaml never looked at', () => t.clock.dueIn().some((ms) => ms > 60_000 && ms < 2 * 3_600_000));
    assert.deepEqual(t.pods(), ['fast-n1:sleep 1']);
    t.clock.advance(Date.now() + 60_000 - t.clock.now()); // a minute past the real clock: past every mtime
    await pump(t, 'slow.yaml not read once quiet', () => t.pods().length === 2, 0);
    assert.deepEqual(t.pods(), ['fast-n1:sleep 1', 'slow-n1:sleep 1']);
    assert.equal(t.logs.filter((l) => /Invalid/.test(l.msg)).length, 0);
  });

  it('keeps the pod of a file gone for less than the settle time (an editor renaming it away to save), and drops it after', async () => {
    const t = setup(undefined, 24 * 3_600_000);
    cleanup = t.cleanup;
    t.write('web.yaml', pod('web'));
    await t.source.start();
    const file = path.join(t.dir, 'web.yaml');
    const aside = path.join(path.dirname(t.dir), 'web.yaml~');
    // vim's save: the old file renamed away, then a file with the same content in its place.
    renameSync(file, aside);
    await removalPass(t);
    const seen = [t.pods().join()];
    renameSync(aside, file);
    await turns(t, 20, 5, seen);
    assert.ok(seen.every((s) => s === 'web-n1:sleep 1'), `the pod went away for a moment: ${JSON.stringify(seen)}`);

    rmSync(file);
    await pump(t, 'the pod of the removed file is still there', () => t.pods().length === 0);
  });

  it('keeps the pod while a file renamed away and written anew in place settles; the same content is the same pod', async () => {
    // An hour behind every mtime: a file written in place settles until the test moves time on.
    const t = setup(undefined, 24 * 3_600_000, Date.now() - 3_600_000);
    cleanup = t.cleanup;
    await t.source.start();
    t.write('web.yaml', pod('web')); // renamed in: read at once
    await pump(t, 'web.yaml never read', () => t.pods().length === 1);
    const file = path.join(t.dir, 'web.yaml');
    renameSync(file, path.join(path.dirname(t.dir), 'web.yaml~'));
    await removalPass(t);
    const seen = [t.pods().join()];
    const fd = openSync(file, 'w');
    writeSync(fd, pod('web'));
    closeSync(fd);
    // Well past the 40 ms a gone file is kept for: the file is back, settling, and its pod stays.
    await turns(t, 30, 5, seen);
    t.clock.advance(Date.now() + 60_000 - t.clock.now()); // a minute past the real clock: past every mtime
    await turns(t, 10, 0, seen);
    assert.ok(seen.every((s) => s === 'web-n1:sleep 1'), `the pod went away for a moment: ${JSON.stringify(seen)}`);
  });
});
