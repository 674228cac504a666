// Create, read, update, patch and delete with the API server's rules: server-set metadata, generateName, 409 on
// existing names (also while terminating), optimistic concurrency, graceful pod deletion and finalizers, and garbage
// collection of dependents through ownerReferences.
import { randomUUID } from 'node:crypto';
import { admitPod, defaultPodSpec, randomSuffix } from './defaults.ts';
import { alreadyExists, ApiError, badRequest, conflict, invalid, notFound, tooLargeResourceVersion } from './errors.ts';
import { applyPatch } from './patch.ts';
import { apiVersionOf, resourceById, type ResourceDef } from './resources.ts';
import type { Store } from './store.ts';
import type { KObject } from './types.ts';
import { validateDaemonSet, validateGeneric, validatePod } from './validate.ts';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** RFC 3339 with seconds precision, as metadata timestamps are. */
export function nowIso(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/\.\d+Z$/, 'Z');
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export class Api {
  readonly store: Store;
  /** Sets a new claim's class and phase (the volume binder's). */
  admitClaim?: (pvc: KObject) => void;

  constructor(store: Store) {
    this.store = store;
  }

  private requireNamespace(r: ResourceDef, ns: string | undefined): void {
    if (r.namespaced && ns !== undefined && !this.store.get('namespaces', undefined, ns)) {
      throw notFound('namespaces', ns);
    }
  }

  get(r: ResourceDef, ns: string | undefined, name: string, rv?: string): KObject {
    if (rv && rv !== '0' && /^\d+$/.test(rv) && Number(rv) > this.store.currentRv) {
      throw tooLargeResourceVersion(rv, this.store.currentRv);
    }
    const obj = this.store.get(r.id, ns, name);
    if (!obj) throw notFound(r.plural, name, r.group);
    return obj;
  }

  create(r: ResourceDef, ns: string | undefined, body: unknown): KObject {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
    const obj = structuredClone(body) as KObject;
    if (obj.kind !== undefined && obj.kind !== r.kind) throw badRequest(`the kind of the object (${obj.kind}) does not match the resource (${r.kind})`);
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (r.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = ns;
    } else delete obj.metadata.namespace;
    this.requireNamespace(r, ns);
    if (!obj.metadata.name && obj.metadata.generateName) {
      do obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
      while (this.store.get(r.id, ns, obj.metadata.name));
    }
    obj.kind = r.kind;
    obj.apiVersion = apiVersionOf(r);
    for (const k of ['uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'creationTimestamp']) {
      delete obj.metadata[k];
    }
    this.admit(r, obj);
    const existing = obj.metadata.name ? this.store.get(r.id, ns, obj.metadata.name) : undefined;
    if (existing) throw alreadyExists(r.plural, obj.metadata.name as string, r.group, !!existing.metadata.deletionTimestamp);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = nowIso();
    return this.store.create(r.id, obj);
  }

  /** Kind-specific validation, defaults and server-owned status of a new object. */
  private admit(r: ResourceDef, obj: KObject): void {
    switch (r.id) {
      case 'pods':
        validatePod(obj);
        defaultPodSpec(obj.spec);
        admitPod(obj);
        return;
      case 'daemonsets.apps':
        validateDaemonSet(obj);
        obj.spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
        obj.spec.revisionHistoryLimit ??= 10;
        defaultPodSpec(obj.spec.template.spec);
        obj.metadata.generation = 1;
        obj.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
        return;
      case 'namespaces':
        validateGeneric(r.kind, obj);
        obj.spec = { finalizers: ['kubernetes'] };
        obj.status = { phase: 'Active' };
        obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name as string };
        return;
      case 'persistentvolumeclaims':
        validateGeneric(r.kind, obj);
        // The volume binder decides (volumes.ts); the k8s-sim/phase annotation asks for a phase that stays.
        if (this.admitClaim) this.admitClaim(obj);
        else obj.status = { phase: obj.metadata.annotations?.['k8s-sim/phase'] ?? 'Bound' };
        return;
      default:
        validateGeneric(r.kind, obj, r.group);
    }
  }

  replace(r: ResourceDef, ns: string | undefined, name: string, body: unknown): KObject {
    if (!body || typeof body !== 'object') throw badRequest('the request body must be a JSON object');
    const next = structuredClone(body) as KObject;
    if (next.metadata?.name !== undefined && next.metadata.name !== name) {
      throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    }
    return this.update(r, ns, name, next);
  }

  patch(r: ResourceDef, ns: string | undefined, name: string, contentType: string, body: unknown): KObject {
    const current = this.get(r, ns, name);
    const next = applyPatch(contentType, current, body) as KObject;
    if (!next || typeof next !== 'object' || !next.metadata) throw badRequest('patch removed the object metadata');
    if (next.metadata.resourceVersion === current.metadata.resourceVersion) delete next.metadata.resourceVersion;
    return this.update(r, ns, name, next);
  }

  /** Common path of PUT and PATCH: precondition, server-owned fields, per-kind immutability, finalization. */
  private update(r: ResourceDef, ns: string | undefined, name: string, next: KObject): KObject {
    const current = this.get(r, ns, name);
    const rv = next.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) throw conflict(r.plural, name, r.group);
    next.metadata = {
      ...next.metadata,
      name,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      deletionTimestamp: current.metadata.deletionTimestamp,
      deletionGracePeriodSeconds: current.metadata.deletionGracePeriodSeconds,
      generation: current.metadata.generation,
    };
    for (const k of Object.keys(next.metadata)) if (next.metadata[k] === undefined) delete next.metadata[k];
    next.kind = r.kind;
    next.apiVersion = apiVersionOf(r);
    next.status = current.status; // status is a subresource: the main endpoint never changes it
    if (r.id === 'pods') {
      const strip = (s: any): any => ({
        ...s,
        containers: (s?.containers ?? []).map((c: any) => ({ ...c, image: '' })),
        initContainers: (s?.initContainers ?? []).map((c: any) => ({ ...c, image: '' })),
        activeDeadlineSeconds: undefined,
        tolerations: undefined,
      });
      if (!same(strip(current.spec), strip(next.spec))) {
        throw invalid('Pod', name, [{ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)' }]);
      }
      validatePod(next);
    } else if (r.id === 'daemonsets.apps') {
      validateDaemonSet(next);
      defaultPodSpec(next.spec.template.spec);
      if (!same(current.spec, next.spec)) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    } else validateGeneric(r.kind, next, r.group);
    if (same(current, { ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } })) {
      return current; // a no-op write does not bump the resourceVersion
    }
    const stored = this.store.update(r.id, next);
    return this.finalizeIfDone(r, stored) ?? stored;
  }

  /** Status (and binding) writes of the simulated controllers: `fn` edits a fresh copy; no write if nothing changed.
   * The answer is the stored object: read it, do not change it. */
  writeStatus(r: ResourceDef, ns: string | undefined, name: string, fn: (obj: KObject) => void): KObject | undefined {
    const current = this.store.peek(r.id, ns, name);
    if (!current) return undefined;
    const next = this.store.copy(current);
    fn(next);
    if (same(current, next)) return current;
    return this.store.updateOwned(r.id, next);
  }

  delete(r: ResourceDef, ns: string | undefined, name: string, opts: DeleteOptions): KObject | undefined {
    const current = this.get(r, ns, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== current.metadata.uid) {
      throw conflict(r.plural, name, r.group, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(r.plural, name, r.group, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    let grace = 0;
    if (r.id === 'pods') {
      grace = opts.gracePeriodSeconds ?? current.spec?.terminationGracePeriodSeconds ?? 30;
      if (grace < 0) grace = 1;
      const phase = current.status?.phase;
      if (!current.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
    }
    const finalizers = current.metadata.finalizers ?? [];
    if (grace === 0 && finalizers.length === 0) return this.removeNow(r, current, opts.propagationPolicy);
    const existingGrace = current.metadata.deletionGracePeriodSeconds;
    if (current.metadata.deletionTimestamp && existingGrace !== undefined && existingGrace <= grace) return current;
    current.metadata.deletionTimestamp = nowIso(grace * 1000);
    current.metadata.deletionGracePeriodSeconds = grace;
    if (opts.propagationPolicy === 'Orphan') current.metadata.finalizers = [...new Set([...finalizers, 'orphan'])];
    return this.store.update(r.id, current);
  }

  /** Ends a graceful deletion: the kubelet calls this once containers stopped (its delete with grace 0). */
  finishDeletion(r: ResourceDef, ns: string | undefined, name: string): void {
    const current = this.store.get(r.id, ns, name);
    if (!current?.metadata.deletionTimestamp) return;
    if (current.metadata.deletionGracePeriodSeconds !== 0) {
      current.metadata.deletionGracePeriodSeconds = 0;
      this.finalizeIfDone(r, this.store.update(r.id, current));
    } else this.finalizeIfDone(r, current);
  }

  /** Removes an object whose deletion is complete: grace period over (0) and no finalizers left. */
  private finalizeIfDone(r: ResourceDef, obj: KObject): KObject | undefined {
    const m = obj.metadata;
    if (!m.deletionTimestamp || m.deletionGracePeriodSeconds !== 0) return undefined;
    const left = (m.finalizers ?? []).filter((f) => f !== 'orphan');
    if (left.length) return undefined;
    return this.removeNow(r, obj, (m.finalizers ?? []).includes('orphan') ? 'Orphan' : undefined);
  }

  private removeNow(r: ResourceDef, obj: KObject, propagation?: string): KObject | undefined {
    const removed = this.store.remove(r.id, obj.metadata.namespace, obj.metadata.name as string);
    if (removed) setImmediate(() => this.collectDependents(removed, propagation === 'Orphan'));
    return removed;
  }

  /** The garbage collector: dependents of a removed owner are deleted (or, for Orphan, released). */
  private collectDependents(owner: KObject, orphan: boolean): void {
    for (const id of ['pods', 'services', 'secrets', 'configmaps', 'persistentvolumeclaims']) {
      const r = resourceById(id);
      const owned = this.store.list(id, (o) =>
        o.metadata.namespace === owner.metadata.namespace &&
        (o.metadata.ownerReferences ?? []).some((ref) => ref.uid === owner.metadata.uid),
      );
      for (const dep of owned) {
        try {
          if (orphan) {
            dep.metadata.ownerReferences = dep.metadata.ownerReferences?.filter((ref) => ref.uid !== owner.metadata.uid);
            this.store.update(id, dep);
          } else if (!dep.metadata.deletionTimestamp) this.delete(r, dep.metadata.namespace, dep.metadata.name as string, {});
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
        }
      }
    }
  }
}
