// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and strategic merge patch approximated as a merge
// patch (lists are replaced, not merged by key — enough for labels, annotations, finalizers and DaemonSet specs).
import { badRequest, ApiError } from './errors.ts';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function unescapeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`json patch: invalid path "${pointer}"`);
  return pointer.slice(1).split('/').map(unescapeToken);
}

function parentOf(doc: unknown, tokens: string[], path: string): { parent: any; key: string } {
  let node: any = doc;
  for (const t of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(t)] : node?.[t];
    if (node === undefined || node === null || typeof node !== 'object') {
      throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "${path}"`);
    }
  }
  return { parent: node, key: tokens[tokens.length - 1] };
}

function getAt(doc: unknown, path: string): unknown {
  let node: any = doc;
  for (const t of parsePointer(path)) node = Array.isArray(node) ? node[Number(t)] : node?.[t];
  return node;
}

function apply(doc: unknown, op: any): unknown {
  const path = String(op?.path ?? '');
  const tokens = parsePointer(path);
  if (tokens.length === 0) {
    if (op.op === 'add' || op.op === 'replace') return structuredClone(op.value);
    throw badRequest(`json patch: cannot ${op.op} the whole document`);
  }
  const { parent, key } = parentOf(doc, tokens, path);
  const missing = (): never => {
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "${path}"`);
  };
  switch (op.op) {
    case 'add':
      if (Array.isArray(parent)) parent.splice(key === '-' ? parent.length : Number(key), 0, structuredClone(op.value));
      else parent[key] = structuredClone(op.value);
      break;
    case 'replace':
      if (!(key in parent)) missing();
      parent[key] = structuredClone(op.value);
      break;
    case 'remove':
      if (!(key in parent)) missing();
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      break;
    case 'test':
      if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op.value)) {
        throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${path} failed`);
      }
      break;
    case 'copy':
    case 'move': {
      const value = getAt(doc, String(op.from));
      if (value === undefined) missing();
      if (op.op === 'move') apply(doc, { op: 'remove', path: op.from });
      apply(doc, { op: 'add', path, value });
      break;
    }
    default:
      throw badRequest(`json patch: unknown operation ${JSON.stringify(op?.op)}`);
  }
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch: body must be an array of operations');
  let doc = structuredClone(target);
  for (const op of ops) doc = apply(doc, op);
  return doc;
}

/** Applies a PATCH body according to its content type; 415 for unknown types. */
export function applyPatch(contentType: string, target: unknown, body: unknown): unknown {
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type === 'application/json-patch+json') return jsonPatch(target, body);
  if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
    return mergePatch(target, body);
  }
  if (type === 'application/apply-patch+yaml') throw new ApiError(415, 'UnsupportedMediaType', 'k8s-sim: server-side apply is not simulated');
  throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
}
