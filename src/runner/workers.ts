import { runQuery, runSchemaRefresh } from '../services/connections.ts';
import type { Core } from '../services/context.ts';

/** Starts consuming every job type in this process: the in-process worker of `ferry serve`. */
export async function startWorkers(core: Core): Promise<void> {
  await core.queue.work('schemarefresh', (data) => runSchemaRefresh(core, String(data.connectionId)));
  await core.queue.work('query', (data) => runQuery(core, String(data.connectionId), String(data.query)));
}
