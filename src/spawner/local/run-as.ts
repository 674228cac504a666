// Who a local server runs as and where: a system user's passwd entry and groups, the working directory from
// home_dir_template, and the command (with --allow-root when it would run as root).
import path from 'node:path';
import { urlEscapePath } from '../../util/url.ts';
import { lookupSystemUser, systemGroupIds, type SystemUser } from '../../util/system-users.ts';
import type { LocalTraits } from './traits.ts';

/** The passwd entry and groups a system user's server runs with; a clear error when the server cannot run as them. */
export async function systemAccount(name: string): Promise<{ user: SystemUser; groups: number[] }> {
  const user = await lookupSystemUser(name);
  if (!user) {
    throw new Error(`User ${name} has no system account (getent passwd ${name} finds none), so their server cannot run as them; ` +
      'create the account, or set LocalAuthenticator.create_system_users = true');
  }
  const hubUid = process.getuid?.();
  if (hubUid !== 0 && hubUid !== user.uid) {
    throw new Error(`The hub runs as uid ${hubUid}, not root, so it cannot start a server as system user ${name} (uid ${user.uid})`);
  }
  return { user, groups: await systemGroupIds(user) };
}

/** home_dir_template with the user and server names URL-escaped (and `.`/`..` kept from climbing), made absolute. */
export function homeDirFor(template: string, user: string, serverName: string): string {
  const safe = (s: string) => (s === '.' || s === '..' ? s.replace(/\./g, '%2E') : urlEscapePath(s));
  const dir = template
    .replace(/\{username\}/g, safe(user))
    .replace(/\{servername\}/g, safe(serverName));
  return path.resolve(dir);
}

/** The hidden file a server's stdout and stderr go to, in its working directory. */
export function serverLogFile(home: string, serverName: string): string {
  return path.join(home, `.nodehub-server${serverName ? `-${urlEscapePath(serverName)}` : ''}.log`);
}

export function serverCommand(traits: LocalTraits, system: SystemUser | null): string[] {
  const cmd = [...traits.cmd, ...traits.args];
  // jupyter refuses to run as root without it (spec 9); with a uid switch the server would not be root
  const runsAsRoot = system ? system.uid === 0 : process.getuid?.() === 0 && !traits.uidSwitch;
  if (runsAsRoot && !cmd.includes('--allow-root')) cmd.push('--allow-root');
  return cmd;
}
