// The double's storage: every object of every resource, one global resourceVersion counter (as etcd's
// revision is global), and a bounded history of changes for watches to resume from (the watch
// cache's window, staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go). Create, update and
// delete follow the generic registry (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go
// and pkg/registry/rest/{create,update,delete}.go) with each resource's strategy from resources.ts.

import { randomBytes, randomUUID } from 'node:crypto';
import { kubeTime } from '../../src/util/kube-time.js';
import { defaultPod, type Obj, podQOS, sortKeys, validateName } from './defaults.js';
import { alreadyExists, conflict, type FieldError, invalid, notFound, OPTIMISTIC_LOCK, unknownError } from './errors.js';
import { RESOURCES, type ResourceDef } from './resources.js';

/** One change, as the watch cache keeps it: the object after (for DELETED: its last state) and before. */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  def: ResourceDef;
  object: Obj;
  prev?: Obj;
}

/** metav1.DeleteOptions, as far as the double reads them. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}

/** What a delete did: the object it answers with, and whether it is gone (false: graceful or finalizers pending). */
export interface DeleteResult {
  obj: Obj;
  deleted: boolean;
  /** The delete found a graceful deletion already under way and changed nothing. */
  alreadyPending: boolean;
}

const NAMESPACES = RESOURCES.find((r) => r.plural === 'namespaces')!;
const key = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;
const keyOf = (o: Obj) => key(o.metadata.namespace, o.metadata.name);

/** The random suffix of generateName (names.SimpleNameGenerator: 5 chars without vowels). */
function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** In-memory objects with resourceVersions, history and the registry's write semantics. */
export class Store {
  private rv = 0;
  private readonly objects = new Map<ResourceDef, Map<string, Obj>>();
  private history: StoreEvent[] = [];
  private compactedAt = 0;
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  constructor(
    private readonly historyLimit: number,
    private readonly now: () => number = Date.now,
  ) {
    for (const r of RESOURCES) this.objects.set(r, new Map());
    // The namespaces every cluster has (kube-apiserver's system namespaces controller makes them).
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.create(NAMESPACES, undefined, { metadata: { name } });
  }

  /** The current resourceVersion (the last write's). */
  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may resume from; older ones are 410 Expired. */
  get oldestResumable(): number {
    return this.compactedAt;
  }

  /** Calls `fn` with every change; returns the function that stops it. */
  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A copy of one object. */
  get(def: ResourceDef, ns: string | undefined, name: string): Obj | undefined {
    const o = this.objects.get(def)!.get(key(def.namespaced ? ns : undefined, name));
    return o && structuredClone(o);
  }

  /** Copies of the objects of a resource (in one namespace, if given), ordered by namespace and name as etcd lists them. */
  list(def: ResourceDef, ns?: string): Obj[] {
    return [...this.objects.get(def)!.values()]
      .filter((o) => ns === undefined || o.metadata.namespace === ns)
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))
      .map((o) => structuredClone(o));
  }

  /** The objects as they were at `rv` (a list with resourceVersionMatch=Exact); rv must be resumable. */
  listAt(def: ResourceDef, rv: number, ns?: string): Obj[] {
    const state = new Map(this.objects.get(def)!);
    for (let i = this.history.length - 1; i >= 0 && this.history[i]!.rv > rv; i--) {
      const e = this.history[i]!;
      if (e.def !== def) continue;
      if (e.type === 'ADDED') state.delete(keyOf(e.object));
      else state.set(keyOf(e.prev!), e.prev!);
    }
    return [...state.values()]
      .filter((o) => ns === undefined || o.metadata.namespace === ns)
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))
      .map((o) => structuredClone(o));
  }

  /** The changes after `rv`, oldest first; `rv` must be ≥ {@link oldestResumable}. */
  eventsSince(rv: number): StoreEvent[] {
    return this.history.filter((e) => e.rv > rv);
  }

  /** Forgets the history: watches and exact lists from any older resourceVersion get 410. */
  compact(): void {
    this.history = [];
    this.compactedAt = this.rv;
  }

  /** Resolves true once the store reaches `rv`, false after `ms` without it. */
  waitFor(rv: number, ms: number): Promise<boolean> {
    if (this.rv >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const stop = this.subscribe(() => {
        if (this.rv < rv) return;
        stop();
        clearTimeout(timer);
        resolve(true);
      });
      const timer = setTimeout(() => {
        stop();
        resolve(false);
      }, ms);
      timer.unref();
    });
  }

  /** POST: creates an object as the registry does (BeforeCreate, the strategy, AlreadyExists). */
  create(def: ResourceDef, ns: string | undefined, body: Obj): Obj {
    const obj = structuredClone(body);
    const m = (obj.metadata ??= {});
    if (def.namespaced) m.namespace = ns;
    else delete m.namespace;
    if (!m.name) {
      if (!m.generateName) throw invalid(def.group, def.kind, '', [{ field: 'metadata.name', type: 'Required', detail: 'name or generateName is required' }]);
      m.name = `${m.generateName}${randomSuffix()}`;
    }
    const nameErrs = validateName(m.name);
    if (nameErrs.length > 0) throw invalid(def.group, def.kind, m.name, nameErrs);
    // The NamespaceLifecycle admission plugin: no objects in a namespace that does not exist.
    if (def.namespaced && !this.objects.get(NAMESPACES)!.has(key(undefined, ns!))) throw notFound({ group: '', resource: 'namespaces' }, ns!);
    // etcd3 store.Create refuses this with a plain error, which the API server turns into a 500.
    if (m.resourceVersion) throw unknownError('resourceVersion should not be set on objects to be created');
    // rest.FillObjectMetaSystemFields: the server picks the UID and creation time, whatever was sent.
    obj.apiVersion = def.apiVersion;
    obj.kind = def.kind;
    m.uid = randomUUID();
    m.creationTimestamp = kubeTime(this.now());
    for (const f of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink', 'managedFields']) delete m[f];
    const errs = def.prepareForCreate?.(obj) ?? [];
    if (errs.length > 0) throw invalid(def.group, def.kind, m.name, errs);
    if (this.objects.get(def)!.has(keyOf(obj))) throw alreadyExists({ group: def.group, resource: def.plural }, m.name);
    return this.commit(def, 'ADDED', obj, undefined);
  }

  /**
   * PUT, or the result of a PATCH: optimistic concurrency on metadata.resourceVersion, the UID as a
   * precondition, fields the client may not change kept from the stored object, the strategy for the
   * main resource or the status subresource. A no-op write changes nothing, not even the
   * resourceVersion, as etcd3's GuaranteedUpdate skips identical bytes.
   */
  update(def: ResourceDef, ns: string | undefined, name: string, incoming: Obj, opts: { subresource?: 'status'; patch?: boolean } = {}): { obj: Obj; created: boolean } {
    const gr = { group: def.group, resource: def.plural };
    const old = this.objects.get(def)!.get(key(def.namespaced ? ns : undefined, name));
    if (!old) {
      if (opts.subresource || opts.patch || !def.allowCreateOnUpdate) throw notFound(gr, name);
      const body = structuredClone(incoming);
      delete body.metadata?.resourceVersion;
      return { obj: this.create(def, ns, body), created: true };
    }
    const obj = structuredClone(incoming);
    const m = (obj.metadata ??= {});
    if (m.uid && m.uid !== old.metadata.uid) {
      // A PUT's UID is a storage precondition (rest.DefaultUpdatedObjectInfo.Preconditions); a patch
      // carries none, so a changed UID there fails validation as an immutable field.
      if (opts.patch) throw invalid(def.group, def.kind, name, [{ field: 'metadata.uid', type: 'Invalid', value: m.uid, detail: 'field is immutable' }]);
      throw conflict(
        gr,
        name,
        `StorageError: invalid object, Code: 4, Key: ${registryKey(def, old)}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${m.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    if (!m.resourceVersion) {
      if (!def.allowUnconditionalUpdate) {
        throw invalid(def.group, def.plural, name, [{ field: 'metadata.resourceVersion', type: 'Invalid', value: 0, detail: 'must be specified for an update' }]);
      }
    } else if (m.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(gr, name, OPTIMISTIC_LOCK);
    }
    obj.apiVersion = def.apiVersion;
    obj.kind = def.kind;
    // rest.BeforeUpdate: identity, creation, generation and deletion stay the server's.
    m.name = old.metadata.name;
    if (def.namespaced) m.namespace = old.metadata.namespace;
    else delete m.namespace;
    m.uid = old.metadata.uid;
    m.creationTimestamp = old.metadata.creationTimestamp;
    for (const f of ['generation', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
      if (old.metadata[f] !== undefined) m[f] = old.metadata[f];
      else delete m[f];
    }
    delete m.selfLink;
    let errs: FieldError[] = [];
    if (opts.subresource === 'status') def.prepareForStatusUpdate?.(obj, old);
    else errs = def.prepareForUpdate?.(obj, old) ?? [];
    if (errs.length > 0) throw invalid(def.group, def.kind, name, errs);
    m.resourceVersion = old.metadata.resourceVersion;
    if (JSON.stringify(sortKeys(obj)) === JSON.stringify(sortKeys(old))) return { obj: structuredClone(old), created: false };
    const stored = this.commit(def, 'MODIFIED', obj, old);
    // Store.shouldDeleteDuringUpdate: the last finalizer of an object being deleted (with no grace left) is gone.
    const grace = old.metadata.deletionGracePeriodSeconds;
    if (old.metadata.deletionTimestamp && !(obj.metadata.finalizers?.length > 0) && (grace === undefined || grace === 0)) {
      return { obj: this.removeNow(def, stored, undefined), created: false };
    }
    return { obj: stored, created: false };
  }

  /**
   * DELETE (Store.Delete with rest.BeforeDelete): preconditions, graceful deletion for pods (deletionTimestamp
   * = now + grace, only ever shortened), finalizers holding an object, then removal and the garbage collector.
   */
  delete(def: ResourceDef, ns: string | undefined, name: string, opts: DeleteOptions = {}): DeleteResult {
    const old = this.objects.get(def)!.get(key(def.namespaced ? ns : undefined, name));
    if (!old) throw notFound({ group: def.group, resource: def.plural }, name);
    // BeforeDelete names the Kind where the resource would go in these two messages.
    const gk = { group: def.group, resource: def.kind };
    const pre = opts.preconditions ?? {};
    if (pre.uid !== undefined && pre.uid !== old.metadata.uid) {
      throw conflict(gk, name, `the UID in the precondition (${pre.uid}) does not match the UID in record (${old.metadata.uid}). The object might have been deleted and then recreated`);
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(
        gk,
        name,
        `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${old.metadata.resourceVersion}). The object might have been modified`,
      );
    }
    let requested = opts.gracePeriodSeconds;
    if (requested !== undefined && requested < 0) requested = 1;
    const obj = structuredClone(old);
    const m = obj.metadata;
    let graceful = false;
    let grace = 0;
    if (def.gracePeriod) {
      if (m.deletionTimestamp) {
        const cur = m.deletionGracePeriodSeconds as number | undefined;
        if (cur !== undefined && cur !== 0) {
          // A graceful deletion is under way: it may only be shortened.
          if (requested === undefined || requested >= cur) return { obj: structuredClone(old), deleted: false, alreadyPending: true };
          m.deletionTimestamp = kubeTime(Date.parse(m.deletionTimestamp) - cur * 1000 + requested * 1000);
          m.deletionGracePeriodSeconds = requested;
          graceful = true;
          grace = requested;
        }
      } else {
        grace = def.gracePeriod(obj, requested);
        m.deletionTimestamp = kubeTime(this.now() + grace * 1000);
        m.deletionGracePeriodSeconds = grace;
        if (m.generation > 0) m.generation++;
        graceful = true;
      }
    }
    const hasFinalizers = Array.isArray(m.finalizers) && m.finalizers.length > 0;
    if (graceful) {
      // The two phases of a graceful delete: the update that marks it, then (grace 0) the removal.
      const stored = this.commit(def, 'MODIFIED', obj, old);
      if (hasFinalizers || grace > 0) return { obj: stored, deleted: false, alreadyPending: false };
      return { obj: this.removeNow(def, stored, opts.propagationPolicy), deleted: true, alreadyPending: false };
    }
    if (hasFinalizers) {
      // markAsDeleting: deletionTimestamp now (unless sooner), grace 0; the finalizers' owners finish it.
      if (!m.deletionTimestamp) {
        if (m.generation > 0) m.generation++;
        m.deletionTimestamp = kubeTime(this.now());
      }
      m.deletionGracePeriodSeconds = 0;
      if (JSON.stringify(obj) === JSON.stringify(old)) return { obj: structuredClone(old), deleted: false, alreadyPending: true };
      return { obj: this.commit(def, 'MODIFIED', obj, old), deleted: false, alreadyPending: false };
    }
    return { obj: this.removeNow(def, old, opts.propagationPolicy), deleted: true, alreadyPending: false };
  }

  /**
   * Creates or replaces an object as if another client had written it, with no strategy applied (a
   * pod's status is kept, not reset to Pending): the test's way of setting up state. Fills uid,
   * creationTimestamp and (pods) defaults when missing, bumps the resourceVersion, and notifies
   * watches. Creates a missing namespace on the way.
   */
  put(def: ResourceDef, body: Obj): Obj {
    const obj = structuredClone(body);
    const m = (obj.metadata ??= {});
    if (!m.name) throw new Error('apiserver double: put() needs metadata.name');
    if (def.namespaced) {
      m.namespace ||= 'default';
      if (!this.objects.get(NAMESPACES)!.has(key(undefined, m.namespace))) this.create(NAMESPACES, undefined, { metadata: { name: m.namespace } });
    } else delete m.namespace;
    obj.apiVersion = def.apiVersion;
    obj.kind = def.kind;
    const old = this.objects.get(def)!.get(keyOf(obj));
    if (old) {
      m.uid ??= old.metadata.uid;
      m.creationTimestamp ??= old.metadata.creationTimestamp;
      if (old.metadata.generation !== undefined) m.generation ??= old.metadata.generation;
      return this.commit(def, 'MODIFIED', obj, old);
    }
    m.uid ??= randomUUID();
    m.creationTimestamp ??= kubeTime(this.now());
    if (def.plural === 'pods' && def.group === '') {
      defaultPod(obj);
      m.generation ??= 1;
      obj.status ??= { phase: 'Pending', qosClass: podQOS(obj) };
    }
    return this.commit(def, 'ADDED', obj, undefined);
  }

  /** Removes an object at once, whatever its grace period or finalizers (then collects its dependents). */
  remove(def: ResourceDef, ns: string | undefined, name: string): boolean {
    const old = this.objects.get(def)!.get(key(def.namespaced ? ns : undefined, name));
    if (!old) return false;
    this.removeNow(def, old, undefined);
    return true;
  }

  private removeNow(def: ResourceDef, current: Obj, propagationPolicy: string | undefined): Obj {
    const gone = this.commit(def, 'DELETED', structuredClone(current), current);
    if (def === NAMESPACES) {
      // The namespace controller, simplified: the namespace's objects go with it at once.
      for (const r of RESOURCES) {
        if (!r.namespaced) continue;
        for (const o of [...this.objects.get(r)!.values()]) if (o.metadata.namespace === current.metadata.name) this.removeNow(r, o, undefined);
      }
    }
    this.collectGarbage(current.metadata.uid, propagationPolicy);
    return gone;
  }

  /**
   * The garbage collector, simplified and synchronous: objects owned by the removed one (ownerReferences
   * naming its UID) lose that reference with propagationPolicy=Orphan; otherwise they are deleted when
   * no other owner of theirs exists. The real collector deletes them with their default grace (a bound
   * pod becomes Terminating) and the pod GC later force-deletes pods of a node that no longer exists;
   * the double does both at once with gracePeriodSeconds=0, as for mirror pods of a deleted Node.
   */
  private collectGarbage(uid: string, propagationPolicy: string | undefined): void {
    const exists = (u: string) => [...this.objects.values()].some((m) => [...m.values()].some((o) => o.metadata.uid === u));
    for (const [def, map] of this.objects) {
      for (const o of [...map.values()]) {
        const refs: { uid?: string }[] = o.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === uid)) continue;
        const rest = refs.filter((r) => r.uid !== uid);
        if (propagationPolicy === 'Orphan' || rest.some((r) => r.uid && exists(r.uid))) {
          const next = structuredClone(o);
          if (rest.length > 0) next.metadata.ownerReferences = rest;
          else delete next.metadata.ownerReferences;
          this.commit(def, 'MODIFIED', next, o);
          continue;
        }
        if (!map.has(keyOf(o))) continue;
        try {
          this.delete(def, o.metadata.namespace, o.metadata.name, { gracePeriodSeconds: 0, preconditions: { uid: o.metadata.uid } });
        } catch {
          // Gone already (a namespace removal took it): nothing to collect.
        }
      }
    }
  }

  private commit(def: ResourceDef, type: StoreEvent['type'], obj: Obj, prev: Obj | undefined): Obj {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    const map = this.objects.get(def)!;
    if (type === 'DELETED') map.delete(keyOf(obj));
    else map.set(keyOf(obj), obj);
    const e: StoreEvent = { type, rv: this.rv, def, object: obj, ...(prev ? { prev } : {}) };
    this.history.push(e);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedAt = Math.max(this.compactedAt, dropped[dropped.length - 1]!.rv);
    }
    for (const l of [...this.listeners]) {
      // A watch that fails to send must not fail the write that fed it.
      try {
        l(e);
      } catch {
        // The watch's own connection handling reports it.
      }
    }
    return structuredClone(obj);
  }
}

/** The etcd key the API server would name in a StorageError (nodes live under /registry/minions). */
function registryKey(def: ResourceDef, o: Obj): string {
  const res = def.plural === 'nodes' ? 'minions' : def.plural;
  return `/registry/${res}/${def.namespaced ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}
