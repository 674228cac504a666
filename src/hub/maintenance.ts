// Hourly housekeeping: expired tokens and OAuth codes go, and the activity record keeps only what the active-user
// gauges (at most 30 days) can still count. Each step is one indexed DELETE, whatever the number of users.
import type { Hub } from './context.ts';

const EVERY_MS = 3600_000;
const KEEP_ACTIVITY_MS = 31 * 86400_000;

export function startMaintenance(hub: Hub): () => void {
  const run = async () => {
    const now = Date.now();
    try {
      await hub.store.tokens.purgeExpired(now);
      await hub.store.oauth.purgeExpiredCodes(now);
      await hub.store.activity.prune(now - KEEP_ACTIVITY_MS);
    } catch (err) {
      hub.log.warn('Housekeeping failed', err);
    }
  };
  const timer = setInterval(run, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
