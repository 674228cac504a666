// Where a waiting job stands: BatchSpawnerBase.queue_detail_cmd lists the waiting jobs in the order the scheduler
// will consider them ("<job id> <reason>" per line; squeue's default sorts by priority, then id), run as the user like
// every other batch command. The pending page shows the position and Slurm's reason (Priority, Resources,
// JobHeldUser, …).
import { runChecked } from './commands.ts';
import type { Vars } from './template.ts';
import { commandLine, type BatchConfig } from './traits.ts';

export interface QueueDetail {
  position: number;
  total: number;
  reason: string;
}

export async function queueDetail(config: BatchConfig, vars: Vars, jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<QueueDetail | null> {
  if (!config.queue_detail_cmd) return null;
  // the query's prefix and fields, with this command in its place
  const line = commandLine({ ...config, batch_query_cmd: config.queue_detail_cmd }, 'batch_query_cmd', vars);
  const out = await runChecked(line, { timeoutMs, signal });
  const rows = out.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [id, ...reason] = l.split(/\s+/);
    return { id: id!, reason: reason.join(' ').replace(/^\((.*)\)$/, '$1') };
  });
  const at = rows.findIndex((r) => r.id === jobId);
  if (at < 0) return null;
  return { position: at + 1, total: rows.length, reason: rows[at]!.reason };
}
