// The files under deploy/, sorted into what they are: kustomizations, nodehub configuration files (what a
// kustomization's configMapGenerator reads), and Kubernetes manifests (everything else); and kustomize's rendering.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const deployDir = join(repo, 'deploy');
export const kubectl = '/usr/bin/kubectl';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; [k: string]: any };

/** All YAML documents of a file, parse errors thrown with the file's name. */
export function readDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0) throw new Error(`${relative(repo, file)}: ${doc.errors.map((e) => e.message).join('; ')}`);
  }
  return list.map((doc) => doc.toJS()).filter((value) => value !== null && value !== undefined);
}

export function yamlFiles(dir: string = deployDir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

export interface DeployTree {
  kustomizations: string[];
  /** nodehub configuration files, read by a kustomization's configMapGenerator. */
  configs: string[];
  /** Files of Kubernetes objects. */
  manifests: string[];
}

export function deployTree(): DeployTree {
  const files = yamlFiles();
  const kustomizations = files.filter((f) => /\/kustomization\.ya?ml$/.test(f));
  const configs = new Set<string>();
  for (const k of kustomizations) {
    const [doc] = readDocuments(k) as { configMapGenerator?: { files?: string[] }[] }[];
    for (const gen of doc.configMapGenerator ?? []) {
      // `key=path` names the ConfigMap key explicitly; the file is the part after `=`.
      for (const f of gen.files ?? []) configs.add(join(dirname(k), f.split('=').pop()!));
    }
  }
  return {
    kustomizations,
    configs: [...configs].sort(),
    manifests: files.filter((f) => !kustomizations.includes(f) && !configs.has(f)),
  };
}

export const haveKubectl = existsSync(kubectl);

/** `kubectl kustomize <dir>` parsed into objects. */
export function render(dir: string): K8sObject[] {
  const out = execFileSync(kubectl, ['kustomize', join(repo, dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const docs = parseAllDocuments(out);
  return (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as K8sObject).filter(Boolean);
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}
