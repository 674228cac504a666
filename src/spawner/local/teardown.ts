// Ending a local server and giving back what it held: the signal ladder on its process group (SIGINT, SIGTERM,
// SIGKILL, each with its timeout), then its uid, cgroup and working directory. LocalProcessSpawner's one teardown path
// (stop, failed start, a dead adopted server) runs these in this order.
import type { Logger } from '../../util/log.ts';
import type { LocalTraits } from './traits.ts';
import type { ServerCgroup } from './limits.ts';
import { killGroupQuietly, releaseHome, signalGroup, waitUntil } from './os.ts';
import { groupAlive } from './process.ts';
import { killUidProcesses, releaseUid } from './uids.ts';
import { uidLocksFor } from './uid-lock-registry.ts';
import type { HubConfig } from '../../config/index.ts';

/**
 * Signals the group led by `pid` until `gone()` says the leader has ended, then kills what is left of the group.
 * `ownGroup`: the hub started this process itself (an adopted pid that is already dead may since have been reused by an
 * unrelated process, so its group is only touched once a signal reached it).
 */
export async function endProcessGroup(pid: number, gone: () => boolean, ownGroup: boolean, traits: LocalTraits,
  log: Logger, label: string): Promise<void> {
  const steps: [NodeJS.Signals, number][] = [
    ['SIGINT', traits.interruptTimeoutMs],
    ['SIGTERM', traits.termTimeoutMs],
    ['SIGKILL', traits.killTimeoutMs],
  ];
  let stopped = gone();
  let signalled = false;
  for (const [sig, wait] of steps) {
    if (stopped) break;
    log.debug(`Sending ${sig} to server process ${pid} of ${label}`);
    // no such process or group, not even a zombie: it ended, and only the report of its exit (from the fork server or
    // the pid watch, both slow when a hub stops a thousand servers at once) has not come in yet
    if (!signalGroup(pid, sig)) {
      stopped = true;
      break;
    }
    signalled = true;
    stopped = await waitUntil(gone, wait);
  }
  if (!stopped && !gone()) log.warn(`Server process ${pid} of ${label} survived SIGKILL`);
  // The leader is gone; anything left in its group (kernels, terminals) is an orphan.
  if (ownGroup || signalled) {
    killGroupQuietly(pid);
    // stopped means the whole group is gone, not just its leader, before anyone is told it was cleaned up
    if (!(await waitUntil(() => !groupAlive(pid), traits.killTimeoutMs))) {
      log.warn(`Processes of server ${pid}'s group (${label}) survived SIGKILL`);
    }
  }
}

/** What a stopped server still holds; null or absent for what it never had. */
export interface HeldResources {
  user: string;
  serverName: string;
  uid: number | null;
  cgroup: ServerCgroup | null;
  /** The working directory the hub handed out (never a system user's home, which is theirs). */
  home: string | null;
  owner: string;
}

export async function releaseResources(held: HeldResources, traits: LocalTraits, log: Logger, hubConfig: HubConfig): Promise<void> {
  if (held.uid !== null) {
    // The user's last server: anything else still running under the uid goes before the uid can be handed out again.
    const freed = releaseUid(held.user, held.serverName);
    if (freed !== null) {
      const n = killUidProcesses(freed);
      if (n) log.info(`Killed ${n} leftover processes of uid ${freed}`);
      // only now may another hub take it
      uidLocksFor(traits.uidLockDir, hubConfig)?.release(freed);
    }
  }
  const cgroup = held.cgroup;
  if (cgroup) {
    // whatever is left inside (a kernel that left the process group) goes with it
    if (!(await waitUntil(() => cgroup.remove(), traits.killTimeoutMs, 50))) log.warn(`Could not remove cgroup ${cgroup.name}`);
  }
  if (held.home) {
    const home = held.home;
    const removed = await releaseHome(home, held.owner, traits.removeHomeDir).catch((err: Error) => {
      log.warn(`Could not remove ${home}: ${err.message}`);
      return false;
    });
    if (removed) log.debug(`Removed working directory ${home}`);
  }
}
