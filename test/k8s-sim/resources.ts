// The resource types the simulator serves, with what discovery, routing, RBAC and field selectors need to know.
import type { KObject } from './types.ts';

export interface ResourceDef {
  /** store key: plural, or plural.group outside core */
  id: string;
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** supported field selector labels beyond metadata.name/metadata.namespace */
  fields: Record<string, (obj: KObject) => string>;
  /** DELETE answers with the object (true) or a Success Status (false), per the real registry */
  returnsDeleted: boolean;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

const podFields: ResourceDef['fields'] = {
  'spec.nodeName': (o) => str(o.spec?.nodeName),
  'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
  'spec.schedulerName': (o) => str(o.spec?.schedulerName),
  'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
  'spec.hostNetwork': (o) => str(o.spec?.hostNetwork ?? false),
  'status.phase': (o) => str(o.status?.phase),
  'status.podIP': (o) => str(o.status?.podIP),
  'status.podIPs': (o) => str(o.status?.podIPs?.[0]?.ip),
  'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
};

const eventFields: ResourceDef['fields'] = {
  'involvedObject.kind': (o) => str((o.involvedObject as any)?.kind),
  'involvedObject.namespace': (o) => str((o.involvedObject as any)?.namespace),
  'involvedObject.name': (o) => str((o.involvedObject as any)?.name),
  'involvedObject.uid': (o) => str((o.involvedObject as any)?.uid),
  'involvedObject.apiVersion': (o) => str((o.involvedObject as any)?.apiVersion),
  'involvedObject.resourceVersion': (o) => str((o.involvedObject as any)?.resourceVersion),
  'involvedObject.fieldPath': (o) => str((o.involvedObject as any)?.fieldPath),
  reason: (o) => str(o.reason),
  reportingComponent: (o) => str(o.reportingComponent),
  source: (o) => str((o.source as any)?.component),
  type: (o) => str(o.type),
};

function def(d: Omit<ResourceDef, 'id' | 'fields' | 'returnsDeleted'> & Partial<ResourceDef>): ResourceDef {
  return {
    id: d.group ? `${d.plural}.${d.group}` : d.plural,
    fields: {},
    returnsDeleted: false,
    ...d,
  };
}

export const RESOURCES: ResourceDef[] = [
  def({ group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], fields: podFields, returnsDeleted: true }),
  def({ group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'], fields: eventFields }),
  def({ group: '', version: 'v1', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', kind: 'PersistentVolumeClaim', namespaced: true, shortNames: ['pvc'] }),
  def({ group: '', version: 'v1', plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, fields: { type: (o) => str(o.type) } }),
  def({ group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
  def({ group: '', version: 'v1', plural: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], returnsDeleted: true }),
  def({ group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], fields: { 'status.phase': (o) => str(o.status?.phase) }, returnsDeleted: true }),
  def({ group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], fields: { 'spec.unschedulable': (o) => str(o.spec?.unschedulable ?? false) } }),
  def({ group: 'apps', version: 'v1', plural: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'] }),
];

export const GROUPS: Array<{ group: string; version: string }> = [{ group: 'apps', version: 'v1' }];

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceById(id: string): ResourceDef {
  const found = RESOURCES.find((r) => r.id === id);
  if (!found) throw new Error(`k8s-sim: unknown resource ${id}`);
  return found;
}

export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The value of a field selector label on an object, or undefined if the label is not supported for the kind. */
export function fieldValue(r: ResourceDef, obj: KObject, label: string): string | undefined {
  if (label === 'metadata.name') return str(obj.metadata.name);
  if (label === 'metadata.namespace') return str(obj.metadata.namespace);
  if (r.plural === 'pods' && label === 'spec.host') return str(obj.spec?.nodeName);
  const get = r.fields[label];
  return get ? get(obj) : undefined;
}
