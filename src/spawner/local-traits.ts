// LocalProcessSpawner's traits, read defensively: the merged config normally carries every trait with its default,
// but a missing or mistyped value falls back to JupyterHub's default (with a clear error for values that cannot work).
import os from 'node:os';
import path from 'node:path';
import type { SpawnerConfig } from './types.ts';
import { sections } from '../config/schema.ts';
import { parseMemLimit } from './local-limits.ts';

export interface LocalTraits {
  cmd: string[];
  args: string[];
  ip: string;
  /** 0 = pick a free port per start. */
  port: number;
  httpTimeoutMs: number;
  /** Contains `{username}` (and optionally `{servername}`). */
  homeDirTemplate: string;
  removeHomeDir: boolean;
  interruptTimeoutMs: number;
  termTimeoutMs: number;
  killTimeoutMs: number;
  uidRange: [number, number] | null;
  /** uid_range is set and the hub runs as root: each user's server runs under its own uid from the range. */
  uidSwitch: boolean;
  /** Servers may run as the hub's user where isolation cannot be had (LocalProcessSpawner.allow_unisolated). */
  allowUnisolated: boolean;
  /** Spawner.mem_limit in bytes, Spawner.cpu_limit in cores; null = no limit. */
  memLimit: number | null;
  cpuLimit: number | null;
  /** Start jupyterhub-singleuser through a fork server that imported its modules once (src/spawner/preload/). */
  preload: boolean;
}

export function readTraits(config: SpawnerConfig): LocalTraits {
  const cmd = commandList(config.cmd, 'cmd') ?? ['jupyterhub-singleuser'];
  if (cmd.length === 0) throw new Error('Spawner.cmd is empty: it must name the program that runs a server');
  const port = config.port ?? 0;
  // a config built without the schema (tests, embedders) gets the schema's default range, not "off": off is spelled null
  const range = uidRange(config.uid_range === undefined ? sections.get('LocalProcessSpawner')!.own.get('uid_range')!.default : config.uid_range);
  const cpuLimit = config.cpu_limit ?? null;
  if (cpuLimit !== null && !(typeof cpuLimit === 'number' && cpuLimit > 0 && Number.isFinite(cpuLimit))) {
    throw new Error(`Spawner.cpu_limit must be a positive number of cores (e.g. 0.5), got ${JSON.stringify(cpuLimit)}`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Spawner.port must be an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  }
  return {
    cmd,
    args: commandList(config.args, 'args') ?? [],
    ip: typeof config.ip === 'string' ? config.ip : '127.0.0.1',
    port,
    httpTimeoutMs: seconds(config.http_timeout, 30),
    homeDirTemplate:
      typeof config.home_dir_template === 'string' && config.home_dir_template
        ? config.home_dir_template
        : path.join(os.tmpdir(), '{username}'),
    removeHomeDir: typeof config.remove_home_dir === 'boolean' ? config.remove_home_dir : true,
    interruptTimeoutMs: seconds(config.interrupt_timeout, 10),
    termTimeoutMs: seconds(config.term_timeout, 5),
    killTimeoutMs: seconds(config.kill_timeout, 5),
    uidRange: range,
    uidSwitch: range !== null && process.getuid?.() === 0,
    allowUnisolated: config.allow_unisolated === true,
    memLimit: parseMemLimit(config.mem_limit),
    cpuLimit,
    preload: typeof config.preload === 'boolean' ? config.preload : true,
  };
}

/** JupyterHub's Command trait: a single string is one program name, not a shell line. */
function commandList(value: unknown, trait: string): string[] | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...value];
  throw new Error(`Spawner.${trait} must be a string or a list of strings, got ${JSON.stringify(value)}`);
}

function seconds(value: unknown, fallback: number): number {
  return (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback) * 1000;
}

function uidRange(value: unknown): [number, number] | null {
  if (value === undefined || value === null) return null;
  if (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((v) => Number.isInteger(v) && v >= 0) &&
    value[0] <= value[1]
  ) {
    if (value[0] === 0) throw new Error('LocalProcessSpawner.uid_range must not include uid 0 (root): servers would run as root');
    return [value[0], value[1]];
  }
  throw new Error(`LocalProcessSpawner.uid_range must be [first, last] uids or null, got ${JSON.stringify(value)}`);
}
