// The config's spawn hooks, run on the spawner object JupyterHub's hooks expect.
import type { SpawnerConfig } from '../config/types.ts';

/** JupyterHub's order: auth_state_hook(spawner, auth_state), then pre_spawn_hook(spawner). The object the hooks get
 *  also answers JupyterHub's `spawner.<trait>` (`spawner.cmd`, `spawner.environment`, `spawner.mem_limit`, … read and
 *  set on this spawn's own config, as a JupyterHub hook does) and `spawner.auth_state`. */
export async function runPreSpawnHooks(config: SpawnerConfig, base: Record<string, unknown>, authState: unknown): Promise<void> {
  if (!config.auth_state_hook && !config.pre_spawn_hook) return;
  const traits: PropertyDescriptorMap = {};
  const settings = config as unknown as Record<string, unknown>;
  for (const key of Object.keys(config)) {
    if (key in base) continue;
    traits[key] = { get: () => settings[key], set: (v: unknown) => { settings[key] = v; }, enumerable: true };
  }
  const spawner = Object.defineProperties({ ...base, auth_state: authState }, traits);
  if (config.auth_state_hook) await config.auth_state_hook(spawner, authState);
  if (config.pre_spawn_hook) await config.pre_spawn_hook(spawner);
}
