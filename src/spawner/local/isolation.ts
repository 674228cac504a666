// What keeps local servers apart, said once at start-up, and the rule that a hub which cannot keep them apart does not
// hand servers to anonymous visitors from the network: every server running as the hub's user could read the cookie
// secret and the database (and so forge anyone's login), signal the hub, and read every other visitor's files.
import type { HubConfig } from '../../config/types.ts';
import { isLoopback } from '../../hub/listen.ts';
import { readTraits } from './traits.ts';
import { describeLimits } from './limits.ts';


/** The "Isolation: …" start-up line; throws when temporary users would reach unisolated servers from the network. */
export function checkLocalIsolation(config: HubConfig, temporaryUsers: boolean, host: string): string {
  const traits = readTraits(config.spawner);
  const limits = describeLimits(traits.memLimit, traits.cpuLimit);
  const tail = limits ? `; ${limits}` : '';
  if (traits.uidSwitch) {
    const [first, last] = traits.uidRange!;
    return `Isolation: each user's servers run as their own uid from ${first}-${last} (LocalProcessSpawner.uid_range)${tail}`;
  }
  const uid = process.getuid?.() ?? -1;
  const why = uid === 0 ? 'LocalProcessSpawner.uid_range is null' : 'hub not root';
  if (temporaryUsers && !isLoopback(host) && !traits.allowUnisolated) {
    throw new Error(
      `Refusing to serve temporary users on ${host === '::' ? 'every interface' : host} without isolation (${why}): ` +
        `every visitor's server would run as uid ${uid} like the hub, able to read the hub's cookie secret and database, ` +
        `signal the hub and read other visitors' files. Run the hub as root (each user then gets a uid of their own ` +
        `from LocalProcessSpawner.uid_range), listen on 127.0.0.1, or set LocalProcessSpawner.allow_unisolated = true ` +
        `if the visitors are trusted.`,
    );
  }
  return `Isolation: none (${why}): servers run as uid ${uid} like the hub${tail}`;
}
