// The machine's user database as the hub needs it for system users (PAM, LDAP users who have a passwd entry): who a
// name is (getent passwd, so NSS sources such as sssd or LDAP count, not just /etc/passwd), their groups (`id`, which
// asks the same sources), and creating an account (LocalAuthenticator.create_system_users).
import { execFile } from 'node:child_process';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

function run(file: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8', timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as { code: number }).code) : null) : 0;
      if (code === null) reject(new Error(`Could not run ${file}: ${err!.message}`));
      else resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

// A name that getent or id could read as an option or a number; refused before it reaches them.
const usableName = (name: string) => /^[^\s:/-][^\s:/]*$/u.test(name) && !/^\d+$/.test(name);

/** The passwd entry of `name`, or null when there is none. */
export async function lookupSystemUser(name: string): Promise<SystemUser | null> {
  if (!usableName(name)) return null;
  const { code, stdout } = await run('getent', ['passwd', name]);
  if (code === 2) return null; // getent: key not found
  if (code !== 0) throw new Error(`getent passwd ${name} failed with exit code ${code}`);
  const fields = stdout.split('\n')[0]!.split(':');
  if (fields.length < 7 || fields[0] !== name) return null;
  return { name, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]!, shell: fields[6] || '/bin/sh' };
}

/** The gids (primary first) of a system user, as initgroups(3) would give them. */
export async function systemGroupIds(user: SystemUser): Promise<number[]> {
  const { code, stdout, stderr } = await run('id', ['-G', '--', user.name]);
  if (code !== 0) throw new Error(`id -G ${user.name} failed: ${stderr.trim()}`);
  const gids = stdout.trim().split(/\s+/).filter(Boolean).map(Number);
  return [user.gid, ...gids.filter((g) => g !== user.gid)];
}

/** The names of the groups a system user is in (primary included); empty when the user does not exist. */
export async function systemGroupNames(name: string): Promise<string[]> {
  if (!usableName(name)) return [];
  const { code, stdout } = await run('id', ['-Gn', '--', name]);
  return code === 0 ? stdout.trim().split(/\s+/).filter(Boolean) : [];
}

/**
 * Runs JupyterHub's add_user_cmd for `name`: each USERNAME in it replaced, the name appended as the last argument;
 * with a uid from LocalAuthenticator.uids, `-u <uid>` is put before the name, as JupyterHub does.
 */
export async function createSystemUser(name: string, command: string[], uid: number | undefined): Promise<void> {
  if (!usableName(name)) throw new Error(`${JSON.stringify(name)} cannot be a system user name`);
  if (command.length === 0) throw new Error('LocalAuthenticator.add_user_cmd is empty');
  const args = command.map((a) => a.replaceAll('USERNAME', name));
  if (uid !== undefined) args.push('-u', String(uid));
  args.push(name);
  const [file, ...rest] = args;
  const { code, stderr } = await run(file!, rest);
  if (code !== 0) throw new Error(`Failed to create system user ${name}: ${args.join(' ')} exited with ${code}: ${stderr.trim()}`);
}
