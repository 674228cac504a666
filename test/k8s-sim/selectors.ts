// Label and field selectors as the API server parses them: comma means AND; labels support =, ==, !=, in, notin,
// exists, !exists (and > / < on integers); fields support =, ==, != on the labels whitelisted per kind.
import { badRequest } from './errors.ts';
import { fieldValue, type ResourceDef } from './resources.ts';
import type { KObject } from './types.ts';

export type Matcher = (obj: KObject) => boolean;

/** A request's matcher, and one field it requires to equal a value (an index a watch can subscribe by), if any. */
export type RequestMatcher = Matcher & { field?: { label: string; value: string; read: (o: KObject) => string | undefined } };

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Label key check shared with validation: optional DNS-subdomain prefix and '/', then a name of <= 63 chars. */
export function labelKeyError(key: string): string | null {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0 && (prefix.length === 0 || prefix.length > 253 || !SUBDOMAIN.test(prefix))) {
    return 'prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character';
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), and be no more than 63 characters";
  }
  return null;
}

export function labelValueError(value: string): string | null {
  if (value === '') return null;
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!NAME.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  }
  return null;
}

/** Splits on commas that are not inside parentheses (label) or escaped with a backslash (field). */
function splitTop(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch === '\\' && i + 1 < input.length) {
      current += ch + input[++i];
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function requirementError(text: string, why: string): never {
  throw badRequest(`unable to parse requirement: ${why} (in "${text}")`);
}

function checkKey(text: string, key: string): void {
  const err = labelKeyError(key);
  if (err) requirementError(text, `key: Invalid value: "${key}": ${err}`);
}

function checkValue(text: string, value: string): void {
  const err = labelValueError(value);
  if (err) requirementError(text, `values[0][${text}]: Invalid value: "${value}": ${err}`);
}

function labelRequirement(text: string): Matcher {
  const set = /^([^\s!=<>()]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(text);
  if (set) {
    const [, key, op, list] = set;
    checkKey(text, key);
    const values = list.split(',').map((v) => v.trim()).filter((v) => v !== '');
    if (values.length === 0) requirementError(text, 'for \'in\', \'notin\' operators, values set can\'t be empty');
    values.forEach((v) => checkValue(text, v));
    return op === 'in'
      ? (o) => values.includes(o.metadata.labels?.[key] as string)
      : (o) => !values.includes(o.metadata.labels?.[key] as string);
  }
  const absent = /^!\s*([^\s!=<>()]+)$/.exec(text);
  if (absent) {
    checkKey(text, absent[1]);
    return (o) => !(o.metadata.labels && absent[1] in o.metadata.labels);
  }
  const cmp = /^([^\s!=<>()]+)\s*(==|!=|=|>|<)\s*([^\s!=<>()]*)$/.exec(text);
  if (cmp) {
    const [, key, op, value] = cmp;
    checkKey(text, key);
    if (op === '>' || op === '<') {
      if (!/^-?\d+$/.test(value)) requirementError(text, `for 'Gt', 'Lt' operators, the value must be an integer`);
      const n = Number(value);
      return (o) => {
        const v = o.metadata.labels?.[key];
        return v !== undefined && /^-?\d+$/.test(v) && (op === '>' ? Number(v) > n : Number(v) < n);
      };
    }
    checkValue(text, value);
    return op === '!='
      ? (o) => o.metadata.labels?.[key] !== value
      : (o) => o.metadata.labels?.[key] === value;
  }
  const exists = /^([^\s!=<>()]+)$/.exec(text);
  if (exists) {
    checkKey(text, exists[1]);
    return (o) => !!o.metadata.labels && exists[1] in o.metadata.labels;
  }
  return requirementError(text, 'found unexpected token');
}

export function parseLabelSelector(input: string | null | undefined): Matcher | null {
  if (!input || input.trim() === '') return null;
  const reqs = splitTop(input).map(labelRequirement);
  return (o) => reqs.every((r) => r(o));
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(input: string | null | undefined, resource: ResourceDef): RequestMatcher | null {
  if (!input || input.trim() === '') return null;
  let field: RequestMatcher['field'];
  const reqs = splitTop(input).map((text): Matcher => {
    const m = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(text);
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${text}'`);
    const [, label, op, raw] = m;
    const value = unescape(raw);
    if (fieldValue(resource, { metadata: {} }, label) === undefined) {
      throw badRequest(`field label not supported: ${label}`);
    }
    const read = (o: KObject) => fieldValue(resource, o, label);
    // the index a watch subscribes by: a name or uid if the selector has one (kind=Pod would match nearly every event)
    if (op !== '!=' && (!field || (/(name|uid)$/i.test(label) && !/(name|uid)$/i.test(field.label)))) field = { label, value, read };
    return op === '!=' ? (o) => read(o) !== value : (o) => read(o) === value;
  });
  const matcher: RequestMatcher = (o) => reqs.every((r) => r(o));
  matcher.field = field;
  return matcher;
}

/** Both selectors of a request (and the namespace of the URL) as one predicate. */
export function requestMatcher(
  resource: ResourceDef,
  namespace: string | undefined,
  labelSelector: string | null | undefined,
  fieldSelector: string | null | undefined,
): RequestMatcher {
  const labels = parseLabelSelector(labelSelector);
  const fields = parseFieldSelector(fieldSelector, resource);
  const matcher: RequestMatcher = (o) =>
    (namespace === undefined || o.metadata.namespace === namespace) &&
    (!labels || labels(o)) &&
    (!fields || fields(o));
  matcher.field = fields?.field;
  return matcher;
}
