// LocalProcessSpawner's settings as the spawner uses them: seconds as milliseconds, and whether uids switch. Every value
// was checked (and defaulted) by the loader against ./settings.ts and ../settings.ts, profile overrides included, so
// nothing is re-checked or re-defaulted here; only the rules that need more than a type are.
import type { LocalProcessSpawnerConfig, SpawnerConfig } from '../../config/types.ts';
import { parseMemLimit } from './limits.ts';

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
  /** Where uid locks shared with other hubs live; '' = none. */
  uidLockDir: string;
  /** Servers may run as the hub's user where isolation cannot be had (LocalProcessSpawner.allow_unisolated). */
  allowUnisolated: boolean;
  /** Spawner.mem_limit in bytes, Spawner.cpu_limit in cores; null = no limit. */
  memLimit: number | null;
  cpuLimit: number | null;
  /** Start jupyterhub-singleuser through a fork server that imported its modules once (preload/). */
  preload: boolean;
}

/** What makes these settings unusable for a start (a profile may empty the command), or null. */
export function traitsProblem(traits: LocalTraits): Error | null {
  return traits.cmd.length === 0 ? new Error('Spawner.cmd is empty: it must name the program that runs a server') : null;
}

export function readTraits(spawnerConfig: SpawnerConfig): LocalTraits {
  const config = spawnerConfig as unknown as LocalProcessSpawnerConfig;
  const range = config.uid_range;
  return {
    cmd: config.cmd,
    args: config.args,
    ip: config.ip,
    port: config.port,
    httpTimeoutMs: config.http_timeout * 1000,
    homeDirTemplate: config.home_dir_template,
    removeHomeDir: config.remove_home_dir,
    interruptTimeoutMs: config.interrupt_timeout * 1000,
    termTimeoutMs: config.term_timeout * 1000,
    killTimeoutMs: config.kill_timeout * 1000,
    uidRange: range,
    uidSwitch: range !== null && process.getuid?.() === 0,
    uidLockDir: config.uid_lock_dir ?? '',
    allowUnisolated: config.allow_unisolated,
    memLimit: parseMemLimit(config.mem_limit),
    cpuLimit: config.cpu_limit || null,
    preload: config.preload,
  };
}
