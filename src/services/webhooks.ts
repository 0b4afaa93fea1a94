import { createHmac } from 'node:crypto';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { FerryError, notFound } from '../domain/errors.ts';
import { events, type WebhookRow, webhookDeliveries, webhooks } from '../store/schema.ts';
import { type Actor, type Core, targetOrganization } from './context.ts';

/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the webhook secret>`. */
export const signatureHeader = 'x-ferry-signature';
const deliveryTimeoutMs = 10_000;

export interface WebhookInput {
  endpoint: string;
  secret: string;
  organizationId?: string | undefined;
}

/** A webhook as shown to callers: the secret never leaves the store in full. */
export interface WebhookView {
  id: string;
  organizationId: string;
  endpoint: string;
  secret: string;
  disabled: boolean;
  createdAt: Date;
}

export function signPayload(secret: string, timestamp: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${digest}`;
}

function checkInput(input: WebhookInput): void {
  let url: URL;
  try {
    url = new URL(input.endpoint);
  } catch {
    throw new FerryError('validation_failed', 'endpoint: not a URL', { field: 'endpoint' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FerryError('validation_failed', 'endpoint: must be an http(s) URL', { field: 'endpoint' });
  }
  if (input.secret.length < 8) {
    throw new FerryError('validation_failed', 'secret: at least 8 characters', { field: 'secret' });
  }
}

const secretOf = (core: Core, row: WebhookRow) => String(core.secrets.decrypt(row.secret).secret);

function view(core: Core, row: WebhookRow): WebhookView {
  const secret = secretOf(core, row);
  return {
    id: row.id,
    organizationId: row.organizationId,
    endpoint: row.endpoint,
    secret: `${'*'.repeat(8)}${secret.slice(-4)}`,
    disabled: row.disabled,
    createdAt: row.createdAt,
  };
}

async function find(core: Core, actor: Actor, id: string): Promise<WebhookRow> {
  const [row] = await core.store.db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), eq(webhooks.organizationId, actor.organizationId)));
  if (!row) throw notFound('webhook', id);
  return row;
}

export async function listWebhooks(core: Core, actor: Actor): Promise<WebhookView[]> {
  const rows = await core.store.db
    .select()
    .from(webhooks)
    .where(eq(webhooks.organizationId, actor.organizationId))
    .orderBy(asc(webhooks.createdAt));
  return rows.map((row) => view(core, row));
}

export async function getWebhook(core: Core, actor: Actor, id: string): Promise<WebhookView> {
  return view(core, await find(core, actor, id));
}

export async function createWebhook(core: Core, actor: Actor, input: WebhookInput): Promise<WebhookView> {
  checkInput(input);
  const organizationId = targetOrganization(actor, input.organizationId);
  const [row] = await core.store.db
    .insert(webhooks)
    .values({
      organizationId,
      endpoint: input.endpoint,
      secret: core.secrets.encrypt({ secret: input.secret }),
    })
    .returning();
  return view(core, row!);
}

export async function updateWebhook(
  core: Core,
  actor: Actor,
  id: string,
  input: WebhookInput,
): Promise<WebhookView> {
  checkInput(input);
  await find(core, actor, id);
  const [row] = await core.store.db
    .update(webhooks)
    .set({
      endpoint: input.endpoint,
      secret: core.secrets.encrypt({ secret: input.secret }),
      updatedAt: sql`now()`,
    })
    .where(eq(webhooks.id, id))
    .returning();
  return view(core, row!);
}

export async function deleteWebhook(core: Core, actor: Actor, id: string): Promise<void> {
  await find(core, actor, id);
  await core.store.db.delete(webhooks).where(eq(webhooks.id, id));
}

/** Enables or disables a webhook; a disabled webhook gets no new events and drops pending retries. */
export async function setWebhookDisabled(core: Core, actor: Actor, id: string, disabled: boolean) {
  await find(core, actor, id);
  const [row] = await core.store.db
    .update(webhooks)
    .set({ disabled, updatedAt: sql`now()` })
    .where(eq(webhooks.id, id))
    .returning();
  return view(core, row!);
}

/** The delivery log of a webhook, newest first. */
export async function listWebhookDeliveries(core: Core, actor: Actor, id: string, limit = 100) {
  await find(core, actor, id);
  return core.store.db
    .select({
      id: webhookDeliveries.id,
      eventId: webhookDeliveries.eventId,
      eventType: events.type,
      status: webhookDeliveries.status,
      attempts: webhookDeliveries.attempts,
      responseStatus: webhookDeliveries.responseStatus,
      error: webhookDeliveries.error,
      createdAt: webhookDeliveries.createdAt,
      deliveredAt: webhookDeliveries.deliveredAt,
    })
    .from(webhookDeliveries)
    .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
    .where(eq(webhookDeliveries.webhookId, id))
    .orderBy(desc(webhookDeliveries.createdAt))
    .limit(limit);
}

/**
 * Job handler of `webhook`: POSTs the event, signed, to the webhook. A failure throws, so the queue
 * retries it with backoff; every attempt is written to the delivery log, the last one as `failed`.
 */
export async function deliverWebhook(
  core: Core,
  deliveryId: string,
  lastAttempt: boolean,
): Promise<{ status: string }> {
  const db = core.store.db;
  const [found] = await db
    .select({ delivery: webhookDeliveries, webhook: webhooks, event: events })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!found || found.delivery.status === 'delivered') return { status: 'delivered' };
  const { webhook, event } = found;
  const record = (values: Partial<typeof webhookDeliveries.$inferInsert>) =>
    db
      .update(webhookDeliveries)
      .set({ ...values, attempts: sql`${webhookDeliveries.attempts} + 1`, updatedAt: sql`now()` })
      .where(eq(webhookDeliveries.id, deliveryId));
  if (webhook.disabled) {
    await record({ status: 'failed', error: 'the webhook was disabled' });
    return { status: 'failed' };
  }
  const body = JSON.stringify({
    id: event.id,
    type: event.type,
    organization_id: event.organizationId,
    created_at: event.createdAt.toISOString(),
    event: event.payload,
  });
  const timestamp = Math.floor(Date.now() / 1000);
  let response: Response;
  try {
    response = await fetch(webhook.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Ferry-Webhooks',
        'x-ferry-event': event.type,
        'x-ferry-delivery': deliveryId,
        [signatureHeader]: signPayload(secretOf(core, webhook), timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(deliveryTimeoutMs),
      redirect: 'manual',
    });
    await response.body?.cancel();
  } catch (error) {
    await record({ status: lastAttempt ? 'failed' : 'pending', error: (error as Error).message });
    throw new FerryError('unavailable', `webhook ${webhook.id}: ${(error as Error).message}`);
  }
  if (!response.ok) {
    await record({
      status: lastAttempt ? 'failed' : 'pending',
      responseStatus: response.status,
      error: `HTTP ${response.status}`,
    });
    throw new FerryError('unavailable', `webhook ${webhook.id} answered ${response.status}`);
  }
  await record({
    status: 'delivered',
    responseStatus: response.status,
    error: null,
    deliveredAt: new Date(),
  });
  return { status: 'delivered' };
}
