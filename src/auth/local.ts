// JupyterHub's LocalAuthenticator: users are the machine's users. allowed_groups lets in members of Unix groups, and
// with create_system_users a user the hub knows but the system does not gets an account (add_user_cmd) before their
// first server starts. The spawner runs their servers as that account (capabilities.systemUsers).
import { ConfigError } from '../config/errors.ts';
import type { AuthenticatorConfig } from '../config/types.ts';
import { createSystemUser, lookupSystemUser, systemGroupNames } from '../util/system-users.ts';
import { BaseAuthenticator } from './base.ts';
import type { AuthResult } from './types.ts';

export abstract class LocalAuthenticator extends BaseAuthenticator {
  protected readonly allowedGroups: ReadonlySet<string>;
  private readonly createSystemUsers: boolean;
  private readonly addUserCmd: string[];
  private readonly uids: ReadonlyMap<string, number>;

  constructor(config: AuthenticatorConfig, section: string) {
    super(config);
    this.allowedGroups = new Set((config.allowed_groups as string[] | undefined) ?? []);
    this.createSystemUsers = config.create_system_users === true;
    this.addUserCmd = (config.add_user_cmd as string[] | undefined) ?? [];
    const uids = new Map<string, number>();
    for (const [name, uid] of Object.entries((config.uids as Record<string, unknown> | undefined) ?? {})) {
      if (!Number.isSafeInteger(uid) || (uid as number) <= 0) throw new ConfigError(`${section}.uids: the uid of ${JSON.stringify(name)} must be a positive integer`, `${section}.uids`);
      uids.set(name, uid as number);
    }
    this.uids = uids;
  }

  // allowed_groups counts as allow configuration, as in JupyterHub.
  protected override get hasExtraAllowConfig(): boolean {
    return this.allowedGroups.size > 0;
  }

  override async checkAllowed(name: string, userExists?: (name: string) => boolean | Promise<boolean>, authentication?: AuthResult): Promise<boolean> {
    if (this.blockedUsers.has(name)) return false;
    if (await super.checkAllowed(name, userExists, authentication)) return true;
    if (this.allowedGroups.size === 0) return false;
    return (await systemGroupNames(name)).some((g) => this.allowedGroups.has(g));
  }

  /** A user without a system account gets one here when create_system_users is on; otherwise the spawner says so. */
  async preSpawnStart(name: string): Promise<void> {
    if (!this.createSystemUsers || (await lookupSystemUser(name))) return;
    await createSystemUser(name, this.addUserCmd, this.uids.get(name));
  }
}
