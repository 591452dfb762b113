import { statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Pod } from '../api/types.js';
import { errorMessage, type NodeletError } from '../errors.js';
import { loadPodManifest, MAX_MANIFEST_BYTES } from '../manifest/index.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { auditActive, auditManifestDir, auditManifestFile, type AuditedDir, type ManifestAuditPolicy } from './manifest-audit.js';
import { compareStrings } from '../util/compare.js';

/** The manifest file extensions we load; everything else is reported once and skipped (DESIGN §2). */
export const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json', '.manifest'];

/** How many manifest files a re-list reads at once. */
const READ_CONCURRENCY = 32;
/** How many files a full re-list stats between two turns of the event loop (~0.5 ms on a local disk). */
const STAT_SLICE = 100;

/** Options of {@link createFileSource}. */
export interface FileSourceOptions {
  /** A directory of manifests or a single manifest file. */
  path: string;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** Full re-list period (kubelet fileCheckFrequency). */
  resyncMs: number;
  /** Called with the whole current set of this source's pods, in file-name order, whenever it changes. */
  onSnapshot: (pods: Pod[]) => void;
  /** Quiet time after a watch event before re-listing (coalesces an editor's burst of events). */
  debounceMs?: number;
  /**
   * A file written in place more recently than this is read again before it is judged: it may be half
   * written. A file renamed into the directory is judged at once (see {@link FileSourceImpl.lastEvent}).
   */
  settleMs?: number;
  /** The manifest audit (issue 11): manifests others than root could change are refused. Absent = none. */
  audit?: ManifestAuditPolicy;
}

/** The state of one manifest file, as the last read found it. */
export interface FileReport {
  file: string;
  /** The pod in force from this file: the last good one, even if the file is bad now. */
  pod?: Pod;
  /** Why the current content is not in force, if it is not. */
  error?: string;
}

/** The file source: a directory (or one file) of static pod manifests. */
export interface FileSource {
  start(): Promise<void>;
  stop(): void;
  /** What each file yields now, for `nodelet validate` and status. */
  report(): FileReport[];
  /** Forces a full re-list now (tests, SIGHUP). */
  resync(): Promise<void>;
}

interface FileEntry {
  /** dev:ino:size:mtime:ctime:mode:uid of what was last read, so an unchanged file is not read again. */
  stamp: string;
  bytes?: string;
  pod?: Pod;
  error?: string;
  reportedError?: string;
  /** Refused by the audit: for itself (`file`) or for its directory (`dir`, reported once for all). */
  insecure?: 'file' | 'dir';
}

/** The stamp of a file refused by the audit: matches no real stamp, so the file is read once it is fixed. */
const INSECURE_STAMP = 'insecure';

function isManifestName(name: string): boolean {
  return MANIFEST_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** What a re-list compares to decide whether to read a file again; mode and owner for the audit. */
function stampOf(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}:${st.uid}`;
}

/** What a re-list found about the directory for every file in it. */
interface ListScope {
  /**
   * When the pass began: the config.seen of every pod it reads that no watch event named. A pod among
   * 1,000 dropped at once was seen when nodelet learnt of the drop, not when its turn to be parsed came
   * (the kubelet's pod start duration counts from config.seen).
   */
  seenAt?: number;
  /**
   * When a watch event first named each file the pass reads, if one did: that file's config.seen. The
   * kubelet reads a file on its event; nodelet's debounce, and a pass still busy with the files named
   * before, must not count as the pod's start-up.
   */
  namedAt?: ReadonlyMap<string, number>;
  /** The static pod directory is insecure: every file in it is refused with this. */
  dirProblem?: NodeletError;
  /** The static pod directory, audited already. */
  auditedDir?: AuditedDir;
  /** Its entries that are regular files, not symlinks. */
  plain?: ReadonlySet<string>;
}

/**
 * Creates the file source (pkg/kubelet/config/file.go, file_linux.go). A watch event is a hint, not the
 * truth: on any event we debounce, re-list the directory and diff by content; a periodic re-list
 * repairs anything the watch missed.
 */
export function createFileSource(opts: FileSourceOptions): FileSource {
  return new FileSourceImpl(opts);
}

class FileSourceImpl implements FileSource {
  private readonly files = new Map<string, FileEntry>();
  private readonly ignoredReported = new Set<string>();
  private watcher: FSWatcher | undefined;
  private parentWatcher: FSWatcher | undefined;
  private watchedTarget: string | undefined;
  private watchRetryMs = 1_000;
  private debounce: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private settleTimer: TimerHandle | undefined;
  private listing: Promise<void> | undefined;
  private again = false;
  /** A pass must list the whole directory (start, resync timer, an event we cannot pin on one file). */
  private fullPending = true;
  /** Manifest files named by watch events (or waiting to settle) since the last pass: only these need a look. */
  private readonly dirty = new Set<string>();
  /** What the last full listing found of the directory, reused by passes over named files only. */
  private lastScope: ListScope = {};
  private lastEmitted: string | undefined;
  /**
   * The kind of the last watch event that named each manifest file: `rename` when it was created or
   * renamed in, `change` when it was written in place (or chmod'ed). A file whose last event is a
   * rename and that is not empty was written whole elsewhere and renamed in, as editors and tools save:
   * it needs no settle time. A file created in place and then written gets `change` events, which
   * send it back to the settle rule. Timestamps cannot tell the two apart: the kernel's coarse clock
   * gives a write and a rename a millisecond later the same time.
   */
  private readonly lastEvent = new Map<string, 'rename' | 'change'>();
  /** When a watch event first named each file since a pass took it (see {@link ListScope.namedAt}). */
  private namedAt = new Map<string, number>();
  /** When a watch event's pass first found each file gone (see {@link dropIfGone}). */
  private readonly goneSince = new Map<string, number>();
  /**
   * Whether a file's pod was set or dropped since the last snapshot: a pass that changed none (a file
   * still settling, an unchanged stamp) sends nothing, without sorting 1,000 files to find that out.
   */
  private podsChanged = true;
  private stopped = false;
  private readonly debounceMs: number;
  private readonly settleMs: number;
  private missingReported = false;
  private reportedDirProblem: string | undefined;

  constructor(private readonly opts: FileSourceOptions) {
    this.debounceMs = opts.debounceMs ?? 5;
    this.settleMs = opts.settleMs ?? 40;
  }

  async start(): Promise<void> {
    await this.resync();
    this.scheduleResync();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.parentWatcher?.close();
    this.parentWatcher = undefined;
    this.debounce?.cancel();
    this.resyncTimer?.cancel();
    this.settleTimer?.cancel();
  }

  report(): FileReport[] {
    return [...this.files.entries()]
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([file, e]) => ({ file, pod: e.pod, error: e.error }));
  }

  /** Re-lists the whole directory now; concurrent calls coalesce into one more pass. */
  resync(): Promise<void> {
    this.fullPending = true;
    return this.pass();
  }

  /**
   * Runs a pass now, or once more after the one running: a full listing when one is pending, else a
   * look at the files named since the last pass. Concurrent calls coalesce.
   */
  private pass(): Promise<void> {
    if (this.listing) {
      this.again = true;
      return this.listing;
    }
    // A timer may find its work done by an earlier pass: nothing to run, and nothing to hold `listing`.
    if (!this.fullPending && this.dirty.size === 0) return Promise.resolve();
    // `finally` runs after the assignment whatever the passes do: `listing` never outlives them.
    const listing = this.passes().finally(() => (this.listing = undefined));
    this.listing = listing;
    return listing;
  }

  private async passes(): Promise<void> {
    do {
      this.again = false;
      // Every file named so far is read by this pass (a full listing reads them all): it takes their times.
      const namedAt = this.namedAt;
      this.namedAt = new Map();
      if (this.fullPending) {
        this.fullPending = false;
        this.dirty.clear();
        await this.relist(namedAt);
      } else if (this.dirty.size > 0) {
        const files = [...this.dirty];
        this.dirty.clear();
        await this.relistSome(files, namedAt);
      }
    } while (this.again && !this.stopped);
  }

  private scheduleResync(): void {
    if (this.stopped) return;
    this.resyncTimer = this.opts.clock.setTimeout(() => {
      void this.resync().finally(() => this.scheduleResync());
    }, this.opts.resyncMs);
  }

  /**
   * inotify names the entry that changed: a manifest file named by the event is all a pass needs to
   * read again (at 1,000 files an edit is then one stat, not 1,000). Anything else (no name, a hidden
   * entry such as the `..data` of a ConfigMap-style swap, another extension, a single-file path) gets
   * a full listing, and the periodic re-list repairs whatever a watch missed.
   */
  private onWatchEvent = (event?: string, name?: string | Buffer | null): void => {
    const dirMode = this.lastScope.plain !== undefined;
    if (dirMode && typeof name === 'string' && !name.startsWith('.') && !name.includes('/') && isManifestName(name)) {
      const file = path.join(this.opts.path, name);
      this.dirty.add(file);
      this.lastEvent.set(file, event === 'rename' ? 'rename' : 'change');
      if (!this.namedAt.has(file)) this.namedAt.set(file, this.opts.clock.now());
    } else {
      this.fullPending = true;
    }
    this.debounce?.cancel();
    this.debounce = this.opts.clock.setTimeout(() => void this.pass(), this.debounceMs);
  };

  private async relist(namedAt?: ReadonlyMap<string, number>): Promise<void> {
    const seenAt = this.opts.clock.now();
    const root = this.opts.path;
    const st = await stat(root).catch(() => undefined);
    let names: string[] = [];
    // Regular files (not symlinks) of the directory: an unchanged one need not be audited again.
    let plain = new Set<string>();
    let dir: string;
    if (!st) {
      // A missing path is not an error (the kubelet's file source says so too): nothing runs until it appears.
      if (!this.missingReported) this.opts.logger.info({ path: root }, 'Static pod path does not exist yet, watching for it');
      this.missingReported = true;
      dir = path.dirname(root);
    } else if (st.isDirectory()) {
      this.missingReported = false;
      dir = root;
      const entries = await readdir(root, { withFileTypes: true }).catch((err) => {
        this.opts.logger.error({ path: root, err: errorMessage(err) }, 'Cannot read static pod directory');
        return [];
      });
      names = entries.map((e) => e.name);
      plain = new Set(entries.filter((e) => e.isFile()).map((e) => path.join(root, e.name)));
    } else {
      this.missingReported = false;
      dir = path.dirname(root);
      names = [path.basename(root)];
    }
    // A single file is watched through its directory: editors replace files by rename.
    await this.ensureWatch(st?.isDirectory() ? root : dir);
    await this.ensureParentWatch(root);
    const scope: ListScope = st?.isDirectory() ? { ...(await this.auditDir(root)), plain, seenAt, namedAt } : { seenAt, namedAt };
    this.lastScope = scope;

    const wanted = new Set<string>();
    for (const name of names.sort()) {
      if (name.startsWith('.')) continue; // hidden files (and the ..data of a ConfigMap-style swap)
      const file = path.join(dir, name);
      if (!isManifestName(name)) {
        if (!this.ignoredReported.has(file)) {
          const fst = await stat(file).catch(() => undefined);
          // Subdirectories are not read, as the kubelet's; only files are worth a word.
          if (fst?.isFile()) {
            this.ignoredReported.add(file);
            this.opts.logger.warn(
              { file, extensions: MANIFEST_EXTENSIONS.join(' ') },
              'Ignoring file in the static pod path: not a manifest extension',
            );
          }
        }
        continue;
      }
      wanted.add(file);
    }
    await this.readAll(await this.changedOf([...wanted], scope), scope);
    for (const file of [...this.files.keys()]) {
      if (!wanted.has(file)) this.forget(file);
      else if (!this.files.get(file)!.stamp) this.dropIfGone(file);
    }
    for (const file of [...this.ignoredReported]) if (!names.includes(path.basename(file))) this.ignoredReported.delete(file);
    this.emit();
  }

  /**
   * Looks again at the named files of the directory only (they were named by watch events or are
   * waiting to settle): each is read if it changed, dropped if it is gone. The directory is audited
   * again, as at every listing; the named files are audited whatever their stamp.
   */
  private async relistSome(files: string[], namedAt?: ReadonlyMap<string, number>): Promise<void> {
    const seenAt = this.opts.clock.now();
    const root = this.opts.path;
    const scope: ListScope = { ...(await this.auditDir(root)), plain: new Set(), seenAt, namedAt };
    // Each batch's pods go out at once: with 1,000 manifests dropped, the first pods start while the
    // rest are parsed (a second of YAML), not after. Every file not yet read keeps what it had, so a
    // partial pass never drops a pod; only the full re-list (at start, every pod) waits for the whole.
    await this.readAll(files, scope, (batch) => {
      for (const file of batch) if (this.files.get(file)?.stamp === '') this.dropIfGone(file);
      this.emit();
    });
  }

  /**
   * The files of a full re-list that {@link readOne} has something to do for: all but those unchanged
   * and with nothing to audit. Stat'ed synchronously, in slices that yield to the event loop: 1,000
   * `statSync` calls cost 4-10 ms of CPU where 1,000 promised `stat`s cost 12-42 ms, and a re-list
   * of 1,000 unchanged files runs every 20 s.
   */
  private async changedOf(files: string[], scope: ListScope): Promise<string[]> {
    const changed: string[] = [];
    for (let i = 0; i < files.length; i += STAT_SLICE) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const file of files.slice(i, i + STAT_SLICE)) {
        let st: Stats | undefined;
        try {
          st = statSync(file, { throwIfNoEntry: false });
        } catch {
          st = undefined; // readOne says why
        }
        if (!st || !this.unchanged(file, st, scope)) changed.push(file);
      }
    }
    return changed;
  }

  /** Whether a file with this stat is as last read and needs no audit: {@link readOne} would do nothing. */
  private unchanged(file: string, st: Stats, scope: ListScope): boolean {
    const entry = this.files.get(file);
    if (!entry || !st.isFile() || scope.dirProblem || stampOf(st) !== entry.stamp) return false;
    // A regular file whose stamp (mode and owner included) has not changed since it passed is still
    // fine, its directory having just been audited; a symlink is audited at every re-list, as a
    // directory or a target on its way may have changed.
    const auditing = this.opts.audit !== undefined && auditActive(this.opts.audit);
    return !auditing || (scope.auditedDir !== undefined && scope.plain?.has(file) === true);
  }

  /**
   * Reads `files` as {@link readOne} does. Files are independent: a few dozen at a time, so 1,000 new
   * manifests are not 1,000 round trips in a row, without opening them all at once.
   */
  private async readAll(files: string[], scope: ListScope, afterBatch?: (batch: string[]) => void): Promise<void> {
    for (let i = 0; i < files.length; i += READ_CONCURRENCY) {
      const batch = files.slice(i, i + READ_CONCURRENCY);
      await Promise.all(batch.map((f) => this.readOne(f, scope)));
      afterBatch?.(batch);
    }
  }

  /**
   * Audits the static pod directory once per re-list. An insecure one is logged once (per distinct
   * problem), not once per file: its files are all refused with the same error.
   */
  private async auditDir(root: string): Promise<ListScope> {
    const policy = this.opts.audit;
    if (!policy || !auditActive(policy)) return {};
    const dirProblem = await auditManifestDir(root, policy);
    if (dirProblem) {
      if (this.reportedDirProblem !== dirProblem.located) {
        this.reportedDirProblem = dirProblem.located;
        this.opts.logger.error({ path: root, err: dirProblem.located }, 'Insecure static pod directory, its manifests are refused (running pods keep their last good manifest)');
      }
      return { dirProblem };
    }
    if (this.reportedDirProblem !== undefined) this.opts.logger.info({ path: root }, 'Static pod directory is secure again');
    this.reportedDirProblem = undefined;
    const real = await realpath(root).catch(() => undefined);
    return real ? { auditedDir: { path: root, real } } : {};
  }

  /** Reads one file if it changed since the last read; a bad read keeps the file's last good pod. */
  private async readOne(file: string, scope: ListScope): Promise<void> {
    const entry = this.files.get(file) ?? { stamp: '' };
    this.files.set(file, entry);
    const st = await stat(file).catch(() => undefined);
    if (!st) {
      entry.stamp = ''; // vanished: dropped below, after a while if it had a pod
      if (!this.goneSince.has(file)) this.goneSince.set(file, this.opts.clock.now());
      return;
    }
    this.goneSince.delete(file);
    if (!st.isFile()) {
      entry.stamp = `dir`;
      this.forget(file);
      return;
    }
    if (this.unchanged(file, st, scope)) return;
    const stamp = stampOf(st);
    const insecure = scope.dirProblem ?? (this.opts.audit && auditActive(this.opts.audit) ? await auditManifestFile(file, this.opts.audit, scope.auditedDir) : undefined);
    if (insecure) {
      this.refuse(file, entry, insecure, scope.dirProblem ? 'dir' : 'file');
      return;
    }
    if (stamp === entry.stamp) return;
    const age = this.opts.clock.now() - st.mtimeMs;
    const renamedIn = age < this.settleMs && st.size > 0 && this.lastEvent.get(file) === 'rename';
    if (age < this.settleMs && !renamedIn) {
      // Possibly still being written: judge it once it has been quiet for settleMs.
      this.settleIn(file, this.settleMs - age + 1);
      return;
    }
    if (st.size > MAX_MANIFEST_BYTES) {
      entry.stamp = stamp;
      this.setError(file, entry, `${file}: file is ${st.size} bytes, more than the ${MAX_MANIFEST_BYTES} allowed for a manifest`);
      return;
    }
    let bytes: string;
    try {
      bytes = await readFile(file, 'utf8');
    } catch (err) {
      this.setError(file, entry, `${file}: ${errorMessage(err)}`);
      return;
    }
    const after = await stat(file).catch(() => undefined);
    // The event of a write made before the second stat is in inotify's queue by now: one turn of the
    // event loop delivers it, and a file that was being written after all goes back to the settle rule.
    if (renamedIn) await new Promise((resolve) => setImmediate(resolve));
    if (!after || stampOf(after) !== stamp || (renamedIn && this.lastEvent.get(file) !== 'rename')) {
      this.settleIn(file, this.settleMs); // changed while we read it
      return;
    }
    entry.stamp = stamp;
    if (bytes === entry.bytes) return;
    entry.bytes = bytes;
    const wasInsecure = entry.insecure;
    entry.insecure = undefined;
    const result = loadPodManifest(bytes, {
      file,
      nodeName: this.opts.nodeName,
      source: 'file',
      origin: file,
      seenAt: new Date(scope.namedAt?.get(file) ?? scope.seenAt ?? this.opts.clock.now()),
    });
    // Once per file content (a changed file gets here only when its bytes differ), each distinct
    // warning once: a manifest with the same typo twice is one line in the log, not one per resync.
    for (const message of new Set(result.warnings.map((w) => w.located))) {
      this.opts.logger.warn({ file, warning: message }, 'Manifest has an unknown field, ignoring it as the kubelet does');
    }
    if (!result.ok) {
      this.setError(file, entry, result.errors.map((e) => e.located).join('\n'));
      return;
    }
    // A directory made secure again was reported once, for all its files: so is its fix.
    if (entry.error && entry.pod && wasInsecure !== 'dir') this.opts.logger.info({ file }, 'Manifest is valid again');
    entry.error = undefined;
    entry.reportedError = undefined;
    entry.pod = result.pod;
    this.podsChanged = true;
  }

  /**
   * After a pass that left `file` unjudged (gone, or back and still settling). A file gone drops its
   * pod once it has stayed gone for settleMs: an editor that saves by renaming the old file away and
   * writing a new one (vim's default) leaves the name empty for a moment, and a pass in that moment
   * must not restart the pod. Back with the same content, the file is the same pod, untouched. A file
   * that never yielded a pod goes at once (a settling one is looked at again all the same).
   */
  private dropIfGone(file: string): void {
    if (!this.files.get(file)?.pod) return this.forget(file);
    const since = this.goneSince.get(file);
    if (since === undefined) return; // back, and settling: its pod stays until the file is judged
    const gone = this.opts.clock.now() - since;
    if (gone >= this.settleMs) this.forget(file);
    else this.settleIn(file, this.settleMs - gone);
  }

  private forget(file: string): void {
    if (this.files.get(file)?.pod) this.podsChanged = true;
    this.files.delete(file);
    this.lastEvent.delete(file);
    this.goneSince.delete(file);
  }

  private setError(file: string, entry: FileEntry, message: string): void {
    entry.error = message;
    if (entry.reportedError === message) return;
    entry.reportedError = message;
    const fields = { file, err: message, keptRunning: entry.pod ? entry.pod.metadata?.name : undefined };
    this.opts.logger.error(fields, entry.pod ? 'Invalid manifest, keeping the last good pod' : 'Invalid manifest, no pod started');
  }

  /**
   * Refuses a manifest the audit found others could change: it is not read, and the pod in force from
   * it (if any) stays, as for a file that stops parsing. Logged once per distinct problem; a problem of
   * the directory was logged once for all its files.
   */
  private refuse(file: string, entry: FileEntry, problem: NodeletError, why: 'file' | 'dir'): void {
    // Matches no stamp and forgets the bytes: once fixed, the file is read and judged afresh.
    entry.stamp = INSECURE_STAMP;
    entry.bytes = undefined;
    entry.insecure = why;
    const message = problem.located;
    entry.error = message;
    if (entry.reportedError === message) return;
    entry.reportedError = message;
    if (why === 'dir') return;
    const fields = { file, err: message, keptRunning: entry.pod ? entry.pod.metadata?.name : undefined };
    this.opts.logger.error(fields, entry.pod ? 'Insecure manifest, keeping the last good pod' : 'Insecure manifest, no pod started');
  }

  /** Looks at `file` again in `ms` (with any other file waiting by then). */
  private settleIn(file: string, ms: number): void {
    this.dirty.add(file);
    if (this.settleTimer) return;
    this.settleTimer = this.opts.clock.setTimeout(() => {
      this.settleTimer = undefined;
      void this.pass();
    }, ms);
  }

  private emit(): void {
    if (!this.podsChanged) return;
    this.podsChanged = false;
    const pods = [...this.files.keys()]
      .sort()
      .map((f) => this.files.get(f)!.pod)
      .filter((p): p is Pod => p !== undefined);
    const key = pods.map((p) => p.metadata!.uid).join(',');
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    this.opts.onSnapshot(pods);
  }

  /**
   * Watches the directory (or the existing parent of a missing path). The real path is compared on
   * every re-list, so a symlinked directory swapped for another (the `..data` pattern) is re-watched.
   */
  private async ensureWatch(target: string): Promise<void> {
    if (this.stopped) return;
    const real = await realpath(target).catch(() => undefined);
    if (real && real === this.watchedTarget && this.watcher) return;
    this.watcher?.close();
    this.watcher = undefined;
    this.watchedTarget = undefined;
    if (!real) return;
    try {
      this.watcher = watch(target, { persistent: false }, this.onWatchEvent);
      this.watcher.on('error', (err) => {
        this.opts.logger.warn({ path: target, err: errorMessage(err) }, 'Watch failed, retrying');
        this.watcher?.close();
        this.watcher = undefined;
        this.retryWatch();
      });
      this.watchedTarget = real;
      this.watchRetryMs = 1_000;
    } catch (err) {
      this.opts.logger.warn({ path: target, err: errorMessage(err) }, 'Cannot watch static pod path, retrying');
      this.retryWatch();
    }
  }

  /**
   * When the static pod path itself is a symlink, its parent is watched too: swapping the link for
   * another directory produces no event inside the old one.
   */
  private async ensureParentWatch(root: string): Promise<void> {
    if (this.stopped || this.parentWatcher) return;
    const isLink = await lstat(root).then((s) => s.isSymbolicLink(), () => false);
    if (!isLink) return;
    try {
      this.parentWatcher = watch(path.dirname(root), { persistent: false }, (_event, name) => {
        if (name === null || name === path.basename(root)) this.onWatchEvent();
      });
      this.parentWatcher.on('error', () => {
        this.parentWatcher?.close();
        this.parentWatcher = undefined;
      });
    } catch {
      // The periodic re-list still notices the swap through realpath.
    }
  }

  /** Watcher failures are retried with backoff 1 s → 20 s (file_linux.go). */
  private retryWatch(): void {
    const wait = this.watchRetryMs;
    this.watchRetryMs = Math.min(this.watchRetryMs * 2, 20_000);
    this.opts.clock.setTimeout(() => void this.resync(), wait);
  }
}
