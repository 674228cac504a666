// Checks a Kubernetes object the way the API server would before storing it, as far as a test can without one:
// the official OpenAPI schema through kubernetes-models (types, enums, required fields, quantities), and what that
// schema lets through — unknown field names (the API server's strict field validation rejects them, and a misspelt
// `readonly` would silently leave a mount writable) and invalid object names and label keys/values. Field names come
// from @kubernetes/client-node's generated models, which are made from the same OpenAPI document.
import * as k8s from '@kubernetes/client-node';
import { Pod } from 'kubernetes-models/v1/Pod';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Container } from 'kubernetes-models/v1/Container';
import { Lifecycle } from 'kubernetes-models/v1/Lifecycle';
import { LocalObjectReference } from 'kubernetes-models/v1/LocalObjectReference';
import { NodeSelectorTerm } from 'kubernetes-models/v1/NodeSelectorTerm';
import { PodAffinityTerm } from 'kubernetes-models/v1/PodAffinityTerm';
import { PreferredSchedulingTerm } from 'kubernetes-models/v1/PreferredSchedulingTerm';
import { Toleration } from 'kubernetes-models/v1/Toleration';
import { Volume } from 'kubernetes-models/v1/Volume';
import { VolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { WeightedPodAffinityTerm } from 'kubernetes-models/v1/WeightedPodAffinityTerm';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';

type Validating = new (data?: any) => { validate(): void };

/** Top-level kinds by `apiVersion/kind`; a kind missing here is reported, so a new kind cannot slip by unchecked. */
const kinds: Record<string, Validating> = {
  'v1/Pod': Pod,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/** Parts of a pod spec that KubeSpawner traits carry (volumes, tolerations, ...), by their core/v1 type name. */
const parts: Record<string, Validating> = {
  Container, Lifecycle, LocalObjectReference, NodeSelectorTerm, PodAffinityTerm, PreferredSchedulingTerm, Toleration,
  Volume, VolumeMount, WeightedPodAffinityTerm,
};

export type PartType = keyof typeof parts;

function schemaErrors(model: Validating, value: unknown, path: string): string[] {
  try {
    new model(value as object).validate();
    return [];
  } catch (err) {
    return [`${path}: ${(err as Error).message}`];
  }
}

interface Attribute { baseName: string; type: string }
type ModelClass = { getAttributeTypeMap(): Attribute[] };

function modelClass(type: string): ModelClass | null {
  const cls = (k8s as unknown as Record<string, unknown>)[type];
  return typeof cls === 'function' && 'getAttributeTypeMap' in cls ? (cls as unknown as ModelClass) : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every key that the model `type` does not declare, anywhere below `value`. */
function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, list[1], `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObject(value)) for (const [key, item] of Object.entries(value)) unknownFields(item, map[1], `${path}.${key}`, out);
    return;
  }
  const cls = modelClass(type);
  if (!cls || !isObject(value)) return; // a scalar, IntOrString, or free-form data
  const attributes = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    const fieldType = attributes.get(key);
    if (fieldType === undefined) out.push(`${path}.${key}: unknown field (not in ${type})`);
    else unknownFields(item, fieldType, `${path}.${key}`, out);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function labelErrors(labels: unknown, path: string): string[] {
  if (!isObject(labels)) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf('/');
    const prefix = slash < 0 ? '' : key.slice(0, slash);
    const name = key.slice(slash + 1);
    if ((prefix && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) || name.length > 63 || !LABEL_NAME.test(name)) {
      out.push(`${path}: invalid label key ${JSON.stringify(key)}`);
    }
    if (typeof value !== 'string' || value.length > 63 || (value !== '' && !LABEL_NAME.test(value))) {
      out.push(`${path}.${key}: invalid label value ${JSON.stringify(value)}`);
    }
  }
  return out;
}

/** Name and label rules the OpenAPI schema does not carry. */
function metadataErrors(obj: Record<string, unknown>, path: string): string[] {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const out: string[] = [];
  const name = meta.name;
  if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    out.push(`${path}.metadata.name: ${JSON.stringify(name)} is not a DNS-1123 subdomain`);
  }
  out.push(...labelErrors(meta.labels, `${path}.metadata.labels`));
  const template = isObject(obj.spec) && isObject(obj.spec.template) ? obj.spec.template : null;
  if (template && isObject(template.metadata)) out.push(...labelErrors(template.metadata.labels, `${path}.spec.template.metadata.labels`));
  return out;
}

/** What is wrong with a whole Kubernetes object (empty when nothing). */
export function manifestErrors(obj: unknown, path = 'object'): string[] {
  if (!isObject(obj) || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    return [`${path}: not a Kubernetes object (apiVersion and kind are missing)`];
  }
  const where = `${path} (${obj.kind} ${isObject(obj.metadata) ? String(obj.metadata.name) : '?'})`;
  const model = kinds[`${obj.apiVersion}/${obj.kind}`];
  if (!model) return [`${where}: no schema registered for ${obj.apiVersion} ${obj.kind} in test/support/k8s-manifests.ts`];
  const version = obj.apiVersion.split('/').pop()!;
  const unknown: string[] = [];
  unknownFields(obj, `${version[0].toUpperCase()}${version.slice(1)}${obj.kind}`, where, unknown);
  return [...schemaErrors(model, obj, where), ...unknown, ...metadataErrors(obj, where)];
}

/** What is wrong with a part of a pod spec, e.g. `partErrors('VolumeMount', mount)`. */
export function partErrors(type: PartType, value: unknown, path = type): string[] {
  const unknown: string[] = [];
  unknownFields(value, `V1${type}`, path, unknown);
  return [...schemaErrors(parts[type], value, path), ...unknown];
}

/** Every name in DNS-1123 label form (container, port and volume names must be). */
export function isDnsLabel(name: unknown): boolean {
  return typeof name === 'string' && name.length <= 63 && DNS_LABEL.test(name);
}
