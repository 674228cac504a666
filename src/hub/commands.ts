// Stub entry points for the command line; the hub's engineer replaces this file with the real implementations.
import type { HubConfig } from '../config/types.ts';

export async function startHub(config: HubConfig): Promise<{ close(): Promise<void> }> {
  void config;
  throw new Error('not implemented');
}

export async function createUserToken(config: HubConfig, name: string): Promise<string> {
  void config;
  void name;
  throw new Error('not implemented');
}

export async function upgradeDb(config: HubConfig): Promise<string> {
  void config;
  throw new Error('not implemented');
}
