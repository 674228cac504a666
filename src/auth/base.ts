// Name handling shared by every authenticator: normalisation, validation and the allow/block/admin lists, with
// JupyterHub's rules (auth.py Authenticator and app.py init_users, which normalises the configured lists).
import type { AuthenticatorConfig } from '../config/types.ts';
import type { AuthResult, Authenticator, AuthenticatorCapabilities, LoginData } from './types.ts';
import { forbiddenNameChars } from './names.ts';

const MAX_NAME_LENGTH = 255; // the users.name column size in JupyterHub's database

function stringList(config: AuthenticatorConfig, trait: string): string[] {
  const v = config[trait] ?? [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new Error(`Authenticator.${trait} must be a list of user names`);
  }
  return v;
}

export abstract class BaseAuthenticator implements Authenticator {
  abstract readonly className: string;
  abstract readonly loginService: string;
  abstract readonly loginUrl: string | null;
  abstract readonly capabilities: AuthenticatorCapabilities;

  readonly allowedUsers: ReadonlySet<string>;
  readonly blockedUsers: ReadonlySet<string>;
  readonly adminUsers: ReadonlySet<string>;
  private readonly usernameMap: ReadonlyMap<string, string>;
  private readonly usernameRegex: RegExp | null;

  constructor(config: AuthenticatorConfig) {
    const map = config.username_map ?? {};
    if (typeof map !== 'object' || map === null || Array.isArray(map) || !Object.values(map).every((x) => typeof x === 'string')) {
      throw new Error('Authenticator.username_map must map names to names');
    }
    this.usernameMap = new Map(Object.entries(map as Record<string, string>));
    const pattern = config.username_pattern ?? '';
    if (typeof pattern !== 'string') throw new Error('Authenticator.username_pattern must be a string');
    try {
      // Python's re.match anchors at the start only; keep that meaning.
      this.usernameRegex = pattern ? new RegExp(`^(?:${pattern})`, 'u') : null;
    } catch (err) {
      throw new Error(`Authenticator.username_pattern is not a valid regular expression: ${(err as Error).message}`);
    }
    this.adminUsers = this.normalizedList(config, 'admin_users');
    this.allowedUsers = this.normalizedList(config, 'allowed_users');
    this.blockedUsers = new Set(stringList(config, 'blocked_users').map((n) => this.normalizeUsername(n)));
  }

  private normalizedList(config: AuthenticatorConfig, trait: string): Set<string> {
    const names = stringList(config, trait).map((n) => this.normalizeUsername(n));
    for (const n of names) {
      if (!this.validateUsername(n)) throw new Error(`Authenticator.${trait}: user name ${JSON.stringify(n)} is not valid`);
    }
    return new Set(names);
  }

  abstract authenticate(data: LoginData): Promise<AuthResult | null>;

  normalizeUsername(name: string): string {
    const lower = name.toLowerCase();
    return this.usernameMap.get(lower) ?? lower;
  }

  validateUsername(name: string): boolean {
    return this.usernameProblem(name) === null;
  }

  /** Why `name` is not a valid user name (the rule it breaks, for the 400 or the login page), or null when it is. */
  usernameProblem(name: string): string | null {
    if (typeof name !== 'string' || !name) return 'user names may not be empty';
    if (name.length > MAX_NAME_LENGTH) return `user names may be at most ${MAX_NAME_LENGTH} characters long`;
    if (name.includes('/')) return "user names may not contain '/'";
    const chars = forbiddenNameChars(name);
    if (chars) return chars;
    if (name !== name.trim()) return 'user names may not begin or end with white space';
    if (this.usernameRegex && !this.usernameRegex.test(name)) return `user names must match ${this.usernameRegex.source}`;
    return null;
  }

  checkAllowed(name: string): boolean {
    if (this.blockedUsers.has(name)) return false;
    return this.allowedUsers.size === 0 || this.allowedUsers.has(name);
  }

  isAdmin(name: string): boolean {
    return this.adminUsers.has(name);
  }
}
