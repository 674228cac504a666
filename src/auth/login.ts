// The whole login decision (JupyterHub's get_authenticated_user): authenticate, then normalise, validate and apply
// the block/allow lists, then decide admin. Every login path (form, auto login, tmplogin, token API) goes through it.
import type { AuthResult, Authenticator, LoginData } from './types.ts';

/** `userExists` answers allow_existing_users (the hub's database); without it only the configured lists count. */
export async function getAuthenticatedUser(
  auth: Authenticator, data: LoginData, userExists?: (name: string) => boolean | Promise<boolean>,
): Promise<AuthResult | null> {
  return checkResult(auth, await auth.authenticate(data), userExists);
}

/** The checks after authentication, for results that come from elsewhere (an OAuth callback, a refresh). */
export async function checkResult(auth: Authenticator, result: AuthResult | null, userExists?: (name: string) => boolean | Promise<boolean>): Promise<AuthResult | null> {
  if (!result) return null;
  if (typeof result.name !== 'string') throw new Error(`${auth.className}.authenticate returned no user name`);
  const name = auth.normalizeUsername(result.name);
  if (!auth.validateUsername(name)) return null;
  const allowed = auth.checkAllowedResult ? await auth.checkAllowedResult(name, result, userExists) : await auth.checkAllowed(name, userExists, result);
  if (!allowed) return null;
  return {
    name,
    // An explicit answer from the authenticator wins; otherwise only admin_users grants (never revokes) admin.
    admin: result.admin ?? (auth.isAdmin(name) ? true : undefined),
    auth_state: result.auth_state ?? null,
    groups: result.groups,
  };
}
