// LocalProcessSpawner's own settings, declared once here (the Spawner ones are in ../settings.ts).
import { configurable, setting } from '../../config/declare.ts';
import * as t from '../../config/traits.ts';
import { Spawner } from '../settings.ts';

/** [first, last] uids; uid 0 is root, so a range holding it would run servers as root. */
const uidRange: t.TraitType<[number, number]> = {
  doc: 'list of 2 ints (first and last uid)',
  expected: 'a list of two uids [first, last] with 0 < first <= last',
  check(value, path, where) {
    const ok = Array.isArray(value) && value.length === 2 && value.every((n) => Number.isSafeInteger(n)) && value[0] > 0 && value[0] <= value[1];
    if (!ok) throw t.mismatch(path, this.expected, value, where);
    return [value[0], value[1]];
  },
};

export const LocalProcessSpawner = configurable('LocalProcessSpawner', Spawner, 'Runs each server as a local process.', {
  home_dir_template: setting(t.string, '/tmp/nodehub-{username}', 'nodehub: home directory made for each user ({username} is replaced).'),
  remove_home_dir: setting(t.bool, true, 'nodehub: delete the home directory when the user is deleted.'),
  interrupt_timeout: setting(t.int, 10, 'Seconds to wait after SIGINT before sending SIGTERM.'),
  term_timeout: setting(t.int, 5, 'Seconds to wait after SIGTERM before sending SIGKILL.'),
  kill_timeout: setting(t.int, 5, 'Seconds to wait after SIGKILL before giving up.'),
  uid_range: setting(t.nullable(uidRange), [2000000000, 2000099999], 'nodehub: as root, run each user\'s servers under a uid of their own from this range (gid = uid, no passwd entry needed; uid 0 not allowed), in their home_dir_template directory handed to that uid with mode 0700 (every directory above it must be searchable by others, e.g. under /tmp). The default range lies in the block systemd leaves unused (above container ranges, below 2^31), so it meets no system or login user. null turns isolation off: servers then run as the hub\'s user, as they do whenever the hub is not root.'),
  uid_lock_dir: setting(t.string, '/run/nodehub/uids', "nodehub: directory of the lock files (one per uid in use, owned by root, mode 0700) through which hubs on one host that share a uid_range never hand the same uid to two users at once; hubs sharing a range must share this directory. Empty: no locks (each hub then needs a uid_range of its own)."),
  allow_unisolated: setting(t.bool, false, 'nodehub: let a hub whose servers cannot run under uids of their own (hub not root, or uid_range null) serve temporary users (tmp authenticator) on a non-loopback address; without it such a hub refuses to start, because every visitor could then read the hub\'s secrets and each other\'s files.'),
  preload: setting(t.bool, true, 'nodehub: start the default jupyterhub-singleuser through a fork server that imported its Python modules once (one per app flavour, started on the first spawn), so a server needs ~30 ms of CPU to boot instead of ~0.5 s; any other Spawner.cmd, or a fork server that cannot start, starts as a fresh process (through the plain launcher, docs/preload.md).'),
});
