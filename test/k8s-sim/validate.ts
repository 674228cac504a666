// The API server's semantic validation (HTTP 422) for what the spawner sends: names, labels, and the pod spec rules
// that the OpenAPI schema cannot express (required image, references, requests <= limits, unique names ...).
import { invalid, type StatusCause } from './errors.ts';
import { parseQuantity } from './quantity.ts';
import { labelKeyError, labelValueError } from './selectors.ts';
import type { KObject } from './types.ts';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

class Causes {
  readonly list: StatusCause[] = [];
  required(field: string, detail = ''): void {
    this.list.push({ reason: 'FieldValueRequired', message: `Required value${detail ? `: ${detail}` : ''}`, field });
  }
  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field });
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}`, field });
  }
  notFound(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(value)}`, field });
  }
  unsupported(field: string, value: unknown, allowed: string[]): void {
    const supported = allowed.map((a) => JSON.stringify(a)).join(', ');
    this.list.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported}`, field });
  }
  forbidden(field: string, detail: string): void {
    this.list.push({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });
  }
}

export function isDns1123Subdomain(name: string): boolean {
  return name.length > 0 && name.length <= 253 && SUBDOMAIN.test(name);
}

export function isDns1123Label(name: string): boolean {
  return name.length > 0 && name.length <= 63 && LABEL.test(name);
}

function validateMeta(c: Causes, meta: KObject['metadata'], path: string, checkName: boolean): void {
  if (checkName) {
    const name = meta.name ?? '';
    if (!name) c.required(`${path}.name`, 'name or generateName is required');
    else if (!isDns1123Subdomain(name)) c.invalid(`${path}.name`, name, name.length > 253 ? 'must be no more than 253 characters' : SUBDOMAIN_MSG);
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    const keyErr = labelKeyError(key);
    if (keyErr) c.invalid(`${path}.labels`, key, keyErr);
    const valueErr = typeof value === 'string' ? labelValueError(value) : 'must be a string';
    if (valueErr) c.invalid(`${path}.labels`, value, valueErr);
  }
  let size = 0;
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    const keyErr = labelKeyError(key);
    if (keyErr) c.invalid(`${path}.annotations`, key, keyErr);
    size += key.length + String(value).length;
  }
  if (size > 256 * 1024) c.list.push({ reason: 'FieldValueTooLong', message: 'Too long: must have at most 262144 bytes', field: `${path}.annotations` });
}

function validateResources(c: Causes, resources: any, path: string): void {
  const limits = resources?.limits ?? {};
  const requests = resources?.requests ?? {};
  for (const [kind, map] of [['limits', limits], ['requests', requests]] as const) {
    for (const [name, value] of Object.entries(map)) {
      if (parseQuantity(value) === null) c.invalid(`${path}.${kind}[${name}]`, value, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    }
  }
  for (const [name, value] of Object.entries(requests)) {
    const req = parseQuantity(value);
    const lim = name in limits ? parseQuantity(limits[name]) : null;
    if (req !== null && lim !== null && req > lim) c.invalid(`${path}.requests`, value, `must be less than or equal to ${name} limit of ${limits[name]}`);
  }
  // Extended resources (a domain-prefixed name such as nvidia.com/gpu) are whole units with request == limit.
  for (const name of new Set([...Object.keys(limits), ...Object.keys(requests)])) {
    if (!name.includes('/') || name.startsWith('kubernetes.io/')) continue;
    const lim = parseQuantity(limits[name]);
    if (lim === null) c.forbidden(`${path}.limits`, `Limit must be set for non overcommitable resources`);
    else if (!Number.isInteger(lim)) c.invalid(`${path}.limits[${name}]`, limits[name], 'must be an integer');
    if (name in requests && parseQuantity(requests[name]) !== lim) c.invalid(`${path}.requests[${name}]`, requests[name], `must be equal to ${name} limit of ${limits[name]}`);
  }
}

function validateContainer(c: Causes, ctr: any, path: string, volumes: Set<string>, ports: Set<string>): void {
  const name = ctr?.name ?? '';
  if (!name) c.required(`${path}.name`);
  else if (!isDns1123Label(name)) c.invalid(`${path}.name`, name, LABEL_MSG);
  if (!ctr?.image || String(ctr.image).trim() === '') c.required(`${path}.image`);
  (ctr?.ports ?? []).forEach((p: any, i: number) => {
    const pp = `${path}.ports[${i}]`;
    const n = p?.containerPort;
    if (!Number.isInteger(n) || n < 1 || n > 65535) c.invalid(`${pp}.containerPort`, n, 'must be between 1 and 65535, inclusive');
    if (p?.name !== undefined) {
      if (p.name.length > 15 || !PORT_NAME.test(p.name) || !/[a-z]/.test(p.name)) c.invalid(`${pp}.name`, p.name, 'must be no more than 15 characters, contain only lowercase alphanumerics or \'-\', and contain at least one letter');
      else if (ports.has(p.name)) c.duplicate(`${pp}.name`, p.name);
      ports.add(p.name);
    }
    if (p?.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) c.unsupported(`${pp}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']);
  });
  (ctr?.env ?? []).forEach((e: any, i: number) => {
    if (!e?.name) c.required(`${path}.env[${i}].name`);
    else if (!ENV_NAME.test(e.name)) c.invalid(`${path}.env[${i}].name`, e.name, "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit");
  });
  const mountPaths = new Set<string>();
  (ctr?.volumeMounts ?? []).forEach((m: any, i: number) => {
    const mp = `${path}.volumeMounts[${i}]`;
    if (!m?.name) c.required(`${mp}.name`);
    else if (!volumes.has(m.name)) c.notFound(`${mp}.name`, m.name);
    if (!m?.mountPath) c.required(`${mp}.mountPath`);
    else {
      if (!String(m.mountPath).startsWith('/')) c.invalid(`${mp}.mountPath`, m.mountPath, 'must be an absolute path');
      if (mountPaths.has(m.mountPath)) c.invalid(`${mp}.mountPath`, m.mountPath, 'must be unique');
      mountPaths.add(m.mountPath);
    }
    if (m?.subPath !== undefined && m.subPath !== '') {
      if (String(m.subPath).startsWith('/')) c.invalid(`${mp}.subPath`, m.subPath, 'must be a relative path');
      if (String(m.subPath).split('/').includes('..')) c.invalid(`${mp}.subPath`, m.subPath, "must not contain '..'");
    }
  });
  validateResources(c, ctr?.resources, `${path}.resources`);
  if (ctr?.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(ctr.imagePullPolicy)) {
    c.unsupported(`${path}.imagePullPolicy`, ctr.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']);
  }
}

function validatePodSpec(c: Causes, spec: any, path: string, restartPolicies: string[]): void {
  if (!spec || typeof spec !== 'object') return c.required(path);
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v: any, i: number) => {
    if (!v?.name) c.required(`${path}.volumes[${i}].name`);
    else if (!isDns1123Label(v.name)) c.invalid(`${path}.volumes[${i}].name`, v.name, LABEL_MSG);
    else if (volumes.has(v.name)) c.duplicate(`${path}.volumes[${i}].name`, v.name);
    volumes.add(v?.name);
    if (v?.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) c.required(`${path}.volumes[${i}].persistentVolumeClaim.claimName`);
  });
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) c.required(`${path}.containers`);
  const names = new Set<string>();
  const ports = new Set<string>();
  for (const [list, key] of [[spec.initContainers ?? [], 'initContainers'], [containers, 'containers']] as const) {
    list.forEach((ctr: any, i: number) => {
      if (ctr?.name && names.has(ctr.name)) c.duplicate(`${path}.${key}[${i}].name`, ctr.name);
      names.add(ctr?.name);
      validateContainer(c, ctr, `${path}.${key}[${i}]`, volumes, ports);
    });
  }
  if (spec.restartPolicy !== undefined && !restartPolicies.includes(spec.restartPolicy)) c.unsupported(`${path}.restartPolicy`, spec.restartPolicy, restartPolicies);
  const dns = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
  if (spec.dnsPolicy !== undefined && !dns.includes(spec.dnsPolicy)) c.unsupported(`${path}.dnsPolicy`, spec.dnsPolicy, dns);
  if (spec.terminationGracePeriodSeconds !== undefined && !(spec.terminationGracePeriodSeconds >= 0)) c.invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0');
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
    const err = labelKeyError(k) ?? labelValueError(String(v));
    if (err) c.invalid(`${path}.nodeSelector`, k, err);
  }
}

/** Throws the 422 Status for an invalid Pod. */
export function validatePod(pod: KObject): void {
  const c = new Causes();
  validateMeta(c, pod.metadata, 'metadata', true);
  validatePodSpec(c, pod.spec, 'spec', ['Always', 'OnFailure', 'Never']);
  if (c.list.length) throw invalid('Pod', pod.metadata.name ?? pod.metadata.generateName ?? '', c.list);
}

/** Throws the 422 Status for an invalid DaemonSet (selector must match the template; restartPolicy Always). */
export function validateDaemonSet(ds: KObject): void {
  const c = new Causes();
  validateMeta(c, ds.metadata, 'metadata', true);
  const selector = ds.spec?.selector;
  const tmplLabels = ds.spec?.template?.metadata?.labels ?? {};
  if (!selector || (!selector.matchLabels && !selector.matchExpressions)) c.required('spec.selector');
  else {
    const ok = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => tmplLabels[k] === v);
    if (!ok) c.invalid('spec.template.metadata.labels', tmplLabels, '`selector` does not match template `labels`');
  }
  validateMeta(c, ds.spec?.template?.metadata ?? {}, 'spec.template.metadata', false);
  validatePodSpec(c, ds.spec?.template?.spec, 'spec.template.spec', ['Always']);
  if (c.list.length) throw invalid('DaemonSet', ds.metadata.name ?? '', c.list, 'apps');
}

/** Name and label checks for the other kinds. */
export function validateGeneric(kind: string, obj: KObject, group = ''): void {
  const c = new Causes();
  validateMeta(c, obj.metadata, 'metadata', true);
  if (kind === 'Namespace' && obj.metadata.name && !isDns1123Label(obj.metadata.name)) c.invalid('metadata.name', obj.metadata.name, LABEL_MSG);
  if (c.list.length) throw invalid(kind, obj.metadata.name ?? '', c.list, group);
}
