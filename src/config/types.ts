// The resolved configuration's types, derived from the declarations (src/*/settings.ts) and never restated: a setting
// added or changed there changes these types. `loadConfig` fills every setting with its default, so consumers never
// test for undefined except where a field is genuinely optional.
import type { FieldValues, ValuesOf } from './declare.ts';
import type { IdleCuller, JupyterHub, roleFields, serviceFields } from '../hub/settings.ts';
import type { Profile, Spawner } from '../spawner/settings.ts';
import type { LocalProcessSpawner } from '../spawner/local/settings.ts';
import type { KubeSpawner } from '../spawner/kubernetes/settings.ts';
import type { BatchSpawnerBase, SlurmSpawner } from '../spawner/slurm/settings.ts';
import type {
  Authenticator, DummyAuthenticator, LDAPAuthenticator, LocalAuthenticator, NullAuthenticator, PAMAuthenticator, SharedPassword,
  SharedPasswordAuthenticator, TmpAuthenticator, GenericOAuthenticator,
} from '../auth/settings.ts';
import type { ConfigurableHTTPProxy } from '../proxy/settings.ts';

export type { ProfileOptionConfig, ProfileChoiceConfig, UnlistedChoiceConfig } from './profile-options.ts';

export type Hook = (...args: any[]) => unknown;

export type ServiceConfig = FieldValues<typeof serviceFields>;
export type RoleConfig = FieldValues<typeof roleFields>;
export type ProfileConfig = Profile;

/** After loading, `bind_url` is always the canonical `http(s)://ip:port/base/` and `base_url` has both slashes. */
export type JupyterHubConfig = ValuesOf<typeof JupyterHub>;
export type IdleCullerConfig = ValuesOf<typeof IdleCuller>;
export type SharedPasswordConfig = ValuesOf<typeof SharedPassword>;
export type PAMAuthenticatorConfig = ValuesOf<typeof PAMAuthenticator>;
export type LDAPAuthenticatorConfig = ValuesOf<typeof LDAPAuthenticator>;
export type GenericOAuthenticatorConfig = ValuesOf<typeof GenericOAuthenticator>;
export type SharedPasswordAuthenticatorConfig = ValuesOf<typeof SharedPasswordAuthenticator>;

/** The Spawner settings, plus those of the selected spawner class (read by that class through its own type). */
export type SpawnerConfig = ValuesOf<typeof Spawner> & { [trait: string]: unknown };
export type LocalProcessSpawnerConfig = ValuesOf<typeof LocalProcessSpawner>;
export type KubeSpawnerConfig = ValuesOf<typeof KubeSpawner>;

/** The Authenticator settings, plus those of the selected authenticator class. */
export type AuthenticatorConfig = ValuesOf<typeof Authenticator> & { [trait: string]: unknown };

/** Every declared class as an instance of it sees its settings: defaults, then its parents' values, then its own. */
export interface SectionsConfig {
  JupyterHub: JupyterHubConfig;
  Spawner: ValuesOf<typeof Spawner>;
  LocalProcessSpawner: LocalProcessSpawnerConfig;
  KubeSpawner: KubeSpawnerConfig;
  BatchSpawnerBase: ValuesOf<typeof BatchSpawnerBase>;
  SlurmSpawner: ValuesOf<typeof SlurmSpawner>;
  Authenticator: ValuesOf<typeof Authenticator>;
  DummyAuthenticator: ValuesOf<typeof DummyAuthenticator>;
  SharedPasswordAuthenticator: ValuesOf<typeof SharedPasswordAuthenticator>;
  TmpAuthenticator: ValuesOf<typeof TmpAuthenticator>;
  NullAuthenticator: ValuesOf<typeof NullAuthenticator>;
  LocalAuthenticator: ValuesOf<typeof LocalAuthenticator>;
  PAMAuthenticator: ValuesOf<typeof PAMAuthenticator>;
  LDAPAuthenticator: ValuesOf<typeof LDAPAuthenticator>;
  GenericOAuthenticator: ValuesOf<typeof GenericOAuthenticator>;
  IdleCuller: IdleCullerConfig;
  SharedPassword: SharedPasswordConfig;
  ConfigurableHTTPProxy: ValuesOf<typeof ConfigurableHTTPProxy>;
}

export interface HubConfig {
  hub: JupyterHubConfig;
  /** Spawner traits merged with the selected spawner class's own section (class section wins), as traitlets does. */
  spawner: SpawnerConfig;
  /** The section name of the selected spawner class (e.g. `LocalProcessSpawner`), whose declarations check profile
   *  overrides; `Spawner` when nodehub declares none for it. */
  spawnerSection: string;
  /** The section name of the selected authenticator class (e.g. `TmpAuthenticator`). */
  authenticatorSection: string;
  /** Authenticator traits merged with the selected authenticator class's section. */
  authenticator: AuthenticatorConfig;
  /** `hub`, `spawner` and `authenticator` are the same objects as their entries here. */
  sections: SectionsConfig;
  /** Where the configuration came from (file path), for messages. */
  source: string | null;
  /** Deprecated names that were read, for the start-up log. */
  warnings: string[];
}
