import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import { FerryError } from '../domain/errors.ts';
import type { ExecutionStatus } from '../domain/executions.ts';
import {
  bulkSyncs,
  type EventRow,
  events,
  executions,
  modelSyncs,
  webhookDeliveries,
  webhooks,
} from '../store/schema.ts';
import { type Actor, type Core, targetOrganization } from './context.ts';

type SyncKind = 'bulk' | 'model';

/** Event type prefix of each sync kind (Polytomic's `sync.*` for model syncs, `bulk_sync.*` for bulk). */
const prefixOf: Record<SyncKind, string> = { model: 'sync', bulk: 'bulk_sync' };

/** How a run's final status is reported; `interrupted` (retry limit reached) is a failure to users. */
const outcomeOf: Partial<Record<ExecutionStatus, string>> = {
  completed: 'completed',
  completed_with_errors: 'completed_with_errors',
  failed: 'failed',
  interrupted: 'failed',
  canceled: 'canceled',
};

/** A bulk run's log archive is ready to download (the `notify` option of the log export). */
export const logsExportedEvent = 'bulk_sync.logs_exported';

/** Every event type `/api/events` lists and webhooks receive. */
export const eventTypes: string[] = [
  ...(['model', 'bulk'] as const).flatMap((kind) =>
    ['completed', 'completed_with_errors', 'failed', 'canceled'].map(
      (outcome) => `${prefixOf[kind]}.${outcome}`,
    ),
  ),
  logsExportedEvent,
];

/** What a sync kind adds to its events beyond the run itself (names, connections). */
const syncDetails: Record<SyncKind, (core: Core, syncId: string) => Promise<Record<string, unknown>>> = {
  bulk: async (core, syncId) => {
    const [sync] = await core.store.db.select().from(bulkSyncs).where(eq(bulkSyncs.id, syncId));
    return sync
      ? {
          sync_name: sync.name,
          source_connection_id: sync.sourceConnectionId,
          destination_connection_id: sync.destinationConnectionId,
        }
      : {};
  },
  model: async (core, syncId) => {
    const [sync] = await core.store.db.select().from(modelSyncs).where(eq(modelSyncs.id, syncId));
    return sync
      ? {
          sync_name: sync.name,
          model_id: sync.modelId,
          target_connection_id: sync.targetConnectionId,
          target_object: sync.targetObject,
        }
      : {};
  },
};

/**
 * Records the outcome of a run that just ended, once (two processes concluding one run record one
 * event), and queues its delivery to the organization's enabled webhooks.
 */
export async function recordExecutionEvent(core: Core, executionId: string): Promise<void> {
  const [run] = await core.store.db.select().from(executions).where(eq(executions.id, executionId));
  const outcome = run && outcomeOf[run.status];
  if (!run || !outcome) return;
  const payload = {
    execution_id: run.id,
    organization_id: run.organizationId,
    sync_id: run.syncId,
    status: run.status,
    trigger_source: run.type,
    record_count: run.recordCount,
    error_count: run.errorCount,
    warning_count: run.warningCount,
    ...(outcome === 'failed' && run.statusMessage ? { error: run.statusMessage } : {}),
    ...(await syncDetails[run.syncKind](core, run.syncId)),
  };
  await recordEvent(core, {
    organizationId: run.organizationId,
    type: `${prefixOf[run.syncKind]}.${outcome}`,
    syncKind: run.syncKind,
    syncId: run.syncId,
    executionId: run.id,
    payload,
  });
}

/** Same as `recordExecutionEvent`, but a failure is logged rather than failing the run that ended. */
export function reportExecutionEnd(core: Core, executionId: string): Promise<void> {
  return recordExecutionEvent(core, executionId).catch((error) =>
    core.log.warn({ err: error, executionId }, 'recording the run event failed'),
  );
}

export interface NewEvent {
  organizationId: string;
  type: string;
  syncKind?: SyncKind | undefined;
  syncId?: string | undefined;
  executionId?: string | undefined;
  payload: Record<string, unknown>;
}

/** Stores an event and queues one delivery per enabled webhook of its organization. */
export async function recordEvent(core: Core, event: NewEvent): Promise<EventRow | undefined> {
  const [row] = await core.store.db
    .insert(events)
    .values({
      organizationId: event.organizationId,
      type: event.type,
      syncKind: event.syncKind ?? null,
      syncId: event.syncId ?? null,
      executionId: event.executionId ?? null,
      payload: event.payload,
    })
    // A run's outcome is recorded once even if two processes report it (the event type of a run is unique).
    .onConflictDoNothing({
      target: [events.executionId, events.type],
      where: sql`${events.executionId} is not null`,
    })
    .returning();
  if (!row) return undefined;
  const targets = await core.store.db
    .select({ id: webhooks.id })
    .from(webhooks)
    .where(and(eq(webhooks.organizationId, row.organizationId), eq(webhooks.disabled, false)));
  for (const webhook of targets) {
    const [delivery] = await core.store.db
      .insert(webhookDeliveries)
      .values({ webhookId: webhook.id, eventId: row.id, status: 'pending' })
      .returning({ id: webhookDeliveries.id });
    await core.queue.enqueue('webhook', { organizationId: row.organizationId, deliveryId: delivery!.id });
  }
  return row;
}

export interface EventQuery {
  organizationId?: string | undefined;
  type?: string | undefined;
  startingAfter?: string | undefined;
  endingBefore?: string | undefined;
  limit?: number | undefined;
}

/**
 * `GET /api/events`: newest first. `starting_after` / `ending_before` are event ids: events older
 * than, or newer than, that one.
 */
export async function listEvents(core: Core, actor: Actor, query: EventQuery): Promise<EventRow[]> {
  const organizationId = targetOrganization(actor, query.organizationId);
  if (query.type !== undefined && !eventTypes.includes(query.type)) {
    throw new FerryError(
      'validation_failed',
      `type: unknown event type "${query.type}" (see /api/events_types)`,
      {
        field: 'type',
      },
    );
  }
  const conditions: SQL[] = [eq(events.organizationId, organizationId)];
  if (query.type) conditions.push(eq(events.type, query.type));
  const anchor = async (id: string, field: string) => {
    const [row] = await core.store.db
      .select({ createdAt: events.createdAt, id: events.id })
      .from(events)
      .where(and(eq(events.id, id), eq(events.organizationId, organizationId)));
    if (!row) throw new FerryError('validation_failed', `${field}: no event ${id}`, { field });
    return row;
  };
  if (query.startingAfter) {
    const at = await anchor(query.startingAfter, 'starting_after');
    conditions.push(
      sql`(${events.createdAt}, ${events.id}) < (${at.createdAt.toISOString()}::timestamptz, ${at.id}::uuid)`,
    );
  }
  const ascending = query.endingBefore !== undefined && query.startingAfter === undefined;
  if (query.endingBefore) {
    const at = await anchor(query.endingBefore, 'ending_before');
    conditions.push(
      sql`(${events.createdAt}, ${events.id}) > (${at.createdAt.toISOString()}::timestamptz, ${at.id}::uuid)`,
    );
  }
  const order = ascending ? asc : desc;
  const rows = await core.store.db
    .select()
    .from(events)
    .where(and(...conditions))
    .orderBy(order(events.createdAt), order(events.id))
    .limit(Math.min(Math.max(query.limit ?? 100, 1), 1000));
  return ascending ? rows.reverse() : rows;
}
