// Name handling shared by every authenticator: normalisation, validation and the allow/block/admin lists, with
// JupyterHub's rules (auth.py Authenticator and app.py init_users, which normalises the configured lists).
import type { AuthenticatorConfig } from '../config/types.ts';
import type { AuthResult, Authenticator, AuthenticatorCapabilities, LoginData, StartupMessage } from './types.ts';
import { forbiddenNameChars } from './names.ts';

const MAX_NAME_LENGTH = 255; // the users.name column size in JupyterHub's database

function optionalBool(config: AuthenticatorConfig, trait: string): boolean | null {
  const v = config[trait] ?? null;
  if (v !== null && typeof v !== 'boolean') throw new Error(`Authenticator.${trait} must be true, false or null`);
  return v;
}

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
  readonly allowAll: boolean;
  readonly allowExistingUsers: boolean;
  /** Whether any allow setting is on (JupyterHub's any_allow_config), for the start-up warning. */
  protected readonly anyAllowConfig: boolean;
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
    const allowed = this.normalizedList(config, 'allowed_users');
    // JupyterHub 5.4 init_users: admins must be able to log in when an allow list exists.
    if (allowed.size > 0) for (const name of this.adminUsers) allowed.add(name);
    this.allowedUsers = allowed;
    this.blockedUsers = new Set(stringList(config, 'blocked_users').map((n) => this.normalizeUsername(n)));
    // The defaults depend on the configured list, as traitlets' dynamic defaults do in JupyterHub 5.4.
    const givenAllowAll = optionalBool(config, 'allow_all');
    const givenExisting = optionalBool(config, 'allow_existing_users');
    this.allowExistingUsers = givenExisting ?? stringList(config, 'allowed_users').length > 0;
    this.allowAll = givenAllowAll ?? this.defaultAllowAll(stringList(config, 'allowed_users').length > 0);
    this.anyAllowConfig = optionalBool(config, 'any_allow_config') ?? (this.allowAll || this.allowExistingUsers || this.allowedUsers.size > 0);
  }

  /** A class's own allow settings (allowed_groups) count for any_allow_config too. */
  protected get hasExtraAllowConfig(): boolean {
    return false;
  }

  /** allow_all when the configuration leaves it unset. JupyterHub 5.4's base class: false (3.x allowed everyone when
   *  allowed_users was empty; the built-in classes that did so keep that default themselves). */
  protected defaultAllowAll(_hasAllowedUsers: boolean): boolean {
    return false;
  }

  /** JupyterHub 5.4's check_allow_config: what looks like a mistake in the allow settings, for the start-up log. */
  startupMessages(): StartupMessage[] {
    const out: StartupMessage[] = [];
    // set('abc') in Python is {'a', 'b', 'c'}: JupyterHub 5.4 points out the likely typo.
    const short = [...this.allowedUsers].filter((n) => [...n].length <= 1).sort();
    if (short.length) {
      const joined = short.join('');
      out.push({ level: 'warn', text: `Allowed set contains single-character names: ${JSON.stringify(short.slice(0, 8))}; did you mean set(['${joined}']) instead of set('${joined}')?` });
    }
    if (this.anyAllowConfig || this.hasExtraAllowConfig) return out;
    return [...out, {
      level: 'warn',
      text: "No allow config found, it's possible that nobody can login to your Hub! Set Authenticator.allow_all = true to let " +
        'in every user who can log in, or e.g. Authenticator.allowed_users to the users who should have access. ' +
        'Set Authenticator.any_allow_config = true to silence this warning.',
    }];
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

  checkAllowed(name: string, userExists: (name: string) => boolean | Promise<boolean> = () => false, _authentication?: AuthResult): boolean | Promise<boolean> {
    if (this.blockedUsers.has(name)) return false;
    if (this.allowAll || this.allowedUsers.has(name)) return true;
    // JupyterHub 5.4 adds every database user to allowed_users at start; asking the database per login instead keeps
    // start-up independent of the number of users and sees users added or deleted since.
    return this.allowExistingUsers && userExists(name);
  }

  isAdmin(name: string): boolean {
    return this.adminUsers.has(name);
  }
}
