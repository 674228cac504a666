// ldapauthenticator.LDAPAuthenticator (its 2.0 trait names and meanings): a user logs in by binding to the directory
// as their DN with their password. The DN comes from bind_dn_template, or (lookup_dn) from a search for the typed
// name. Built on ldapts: pure TypeScript (no native addon to rebuild per Node release), maintained, promise-based, with
// StartTLS and LDAPS; ldapjs, the other common client, is decommissioned.
//
// Every user-supplied value that enters a filter is escaped per RFC 4515 and every one that enters a DN per RFC 4514,
// besides valid_username_regex, so a name such as `*)(uid=*` can neither widen a search nor pick another entry.
import type { Client, Entry } from 'ldapts';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../config/errors.ts';
import type { AuthenticatorConfig, LDAPAuthenticatorConfig } from '../config/types.ts';
import { BaseAuthenticator } from './base.ts';
import { LDAPAuthenticator as LDAPSettings } from './settings.ts';
import type { AuthResult, AuthenticatorCapabilities, LoginData } from './types.ts';

const CLS = 'LDAPAuthenticator';
const TIMEOUT_MS = 30_000;

/** RFC 4515: a value inside a search filter. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** RFC 4514: an attribute value inside a DN. */
export function escapeDnValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=\0]/g, (c) => (c === '\0' ? '\\00' : `\\${c}`));
  if (/^[ #]/.test(out)) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** Python's str.format for the named fields we offer; unknown fields stay as written. */
function format(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? values[key]! : whole));
}

function first(entry: Entry, attribute: string): string | null {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const v = key ? entry[key] : undefined;
  const value = Array.isArray(v) ? v[0] : v;
  if (value === undefined) return null;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

export class LDAPAuthenticator extends BaseAuthenticator {
  readonly className = 'ldapauthenticator.LDAPAuthenticator';
  readonly loginService = '';
  readonly loginUrl = null;
  readonly capabilities: AuthenticatorCapabilities;
  private readonly c: LDAPAuthenticatorConfig;
  private readonly url: string;
  private readonly startTls: boolean;
  private readonly validNameRegex: RegExp;
  log: (message: string) => void = () => {};

  constructor(config: AuthenticatorConfig) {
    super(config);
    // The loader fills every default; an authenticator made directly (a plug-in, a test) gets the declared ones too.
    const defaults = Object.fromEntries(Object.entries(LDAPSettings.settings).map(([k, v]) => [k, v.default]));
    const given = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
    const c = { ...defaults, ...given } as unknown as LDAPAuthenticatorConfig;
    this.c = c;
    if (!c.server_address) throw new ConfigError(`${CLS}.server_address must be set to the LDAP server's host name or address`, `${CLS}.server_address`);
    // ldapauthenticator 2.0: use_ssl = true is the old spelling of on_connect; false (1.x) meant StartTLS, the default.
    const strategy = c.use_ssl === true ? 'on_connect' : c.tls_strategy;
    const port = c.server_port ?? (strategy === 'on_connect' ? 636 : 389);
    const host = c.server_address.includes(':') && !c.server_address.startsWith('[') ? `[${c.server_address}]` : c.server_address;
    this.url = `${strategy === 'on_connect' ? 'ldaps' : 'ldap'}://${host}:${port}`;
    this.startTls = strategy === 'before_bind';
    try {
      this.validNameRegex = new RegExp(c.valid_username_regex, 'u');
    } catch (err) {
      throw new ConfigError(`${CLS}.valid_username_regex is not a valid regular expression: ${(err as Error).message}`, `${CLS}.valid_username_regex`);
    }
    if (!c.lookup_dn && c.bind_dn_template.filter(Boolean).length === 0) {
      throw new ConfigError(`${CLS} needs bind_dn_template, or lookup_dn with user_search_base and user_attribute`, `${CLS}.bind_dn_template`);
    }
    if (c.lookup_dn) {
      for (const key of ['user_search_base', 'user_attribute', 'lookup_dn_user_dn_attribute'] as const) {
        if (!c[key]) throw new ConfigError(`${CLS}.lookup_dn needs ${CLS}.${key}`, `${CLS}.${key}`);
      }
    }
    this.capabilities = { temporaryUsers: false, passwordField: true, autoLogin: config.auto_login === true, systemUsers: false };
  }

  // allowed_groups is allow configuration too (ldapauthenticator 2.0 checks it in check_allowed).
  protected override get hasExtraAllowConfig(): boolean {
    return this.c.allowed_groups.length > 0;
  }

  override async checkAllowed(name: string, userExists?: (name: string) => boolean | Promise<boolean>, authentication?: AuthResult): Promise<boolean> {
    if (this.blockedUsers.has(name)) return false;
    if ((await super.checkAllowed(name, userExists, authentication)) === true) return true;
    const groups = new Set(authentication?.groups ?? []);
    return this.c.allowed_groups.some((g) => groups.has(g));
  }

  private async connect(): Promise<Client> {
    const tlsOptions = this.c.tls_kwargs as ConnectionOptions;
    // ldapts (and node:tls) load on the first login: a hub with another authenticator never loads them.
    const { Client } = await import('ldapts');
    // ldapts opens TLS at connect whenever the client is given TLS options, ldap:// or not: for StartTLS they go to
    // startTLS only. Copies per connection: ldapts stores the plain socket in the options it is handed.
    const client = new Client({
      url: this.url, timeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS, strictDN: false,
      ...(this.url.startsWith('ldaps:') ? { tlsOptions: { ...tlsOptions } } : {}),
    });
    if (this.startTls) await client.startTLS({ ...tlsOptions });
    return client;
  }

  async authenticate(data: LoginData): Promise<AuthResult | null> {
    let username = typeof data?.username === 'string' ? data.username : '';
    const password = typeof data?.password === 'string' ? data.password : '';
    if (!this.validNameRegex.test(username)) {
      this.log(`Illegal characters in username ${JSON.stringify(username)}, must match ${CLS}.valid_username_regex`);
      return null;
    }
    // An empty password is an anonymous bind that "succeeds" on many servers (RFC 4513 unauthenticated bind).
    if (!password.trim()) return null;
    const client = await this.connect();
    try {
      let templates = this.c.bind_dn_template.filter(Boolean);
      if (this.c.lookup_dn) {
        const found = await this.lookupDn(client, username);
        if (!found) return null;
        if (this.c.use_lookup_dn_username) username = found.name;
        if (templates.length === 0) templates = [found.dn];
      }
      let userdn: string | null = null;
      for (const template of templates) {
        const dn = format(template, { username: escapeDnValue(username) });
        const candidate = this.c.escape_userdn ? escapeFilterValue(dn) : dn;
        try {
          await client.bind(candidate, password);
          userdn = candidate;
          break;
        } catch {
          // the next template, or a refusal
        }
      }
      if (!userdn) {
        this.log(`Invalid password for user ${JSON.stringify(username)}`);
        return null;
      }
      if (this.c.search_filter) {
        const filter = format(this.c.search_filter, { username: escapeFilterValue(username), userattr: this.c.user_attribute ?? '' });
        const { searchEntries } = await client.search(this.c.user_search_base ?? '', { scope: 'sub', filter, attributes: this.c.attributes });
        if (searchEntries.length !== 1) {
          this.log(`${searchEntries.length} users match ${CLS}.search_filter for ${JSON.stringify(username)}; refused`);
          return null;
        }
      }
      const groups: string[] = [];
      for (const group of this.c.allowed_groups) {
        const filter = format(this.c.group_search_filter, { userdn: escapeFilterValue(userdn), uid: escapeFilterValue(username) });
        const { searchEntries } = await client.search(group, { scope: 'base', filter, attributes: ['dn'] }).catch(() => ({ searchEntries: [] }));
        if (searchEntries.length > 0) groups.push(group);
      }
      let authState: Record<string, unknown> | null = null;
      if (this.c.auth_state_attributes.length) {
        const { searchEntries } = await client.search(userdn, { scope: 'base', filter: '(objectClass=*)', attributes: this.c.auth_state_attributes });
        const entry = searchEntries[0];
        authState = { user_attributes: entry ? Object.fromEntries(this.c.auth_state_attributes.map((a) => [a, first(entry, a)])) : {} };
      }
      return { name: username, groups, auth_state: authState ?? undefined };
    } finally {
      await client.unbind().catch(() => {});
    }
  }

  /** lookup_dn: the entry whose user_attribute is the typed name, searched as lookup_dn_search_user (or anonymously). */
  private async lookupDn(client: Client, typed: string): Promise<{ name: string; dn: string } | null> {
    const c = this.c;
    if (c.lookup_dn_search_user || c.lookup_dn_search_password) {
      try {
        await client.bind(c.lookup_dn_search_user ?? '', c.lookup_dn_search_password ?? '');
      } catch (err) {
        this.log(`Failed to bind as ${CLS}.lookup_dn_search_user: ${(err as Error).message}`);
        return null;
      }
    }
    const filter = format(c.lookup_dn_search_filter, { login_attr: c.user_attribute!, login: escapeFilterValue(typed) });
    const { searchEntries } = await client.search(c.user_search_base!, { scope: 'sub', filter, attributes: [c.lookup_dn_user_dn_attribute!] });
    if (searchEntries.length !== 1) {
      this.log(`${searchEntries.length} entries found for ${JSON.stringify(typed)} with ${filter}; refused`);
      return null;
    }
    const entry = searchEntries[0]!;
    const name = first(entry, c.lookup_dn_user_dn_attribute!);
    return name ? { name, dn: entry.dn } : null;
  }
}
