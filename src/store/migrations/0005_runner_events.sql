-- Runner: scheduler ticks, events of runs, webhooks and their deliveries. Generic over sync kinds.

-- One row per schedule tick that fired: the key lets exactly one process fire each tick.
CREATE TABLE schedule_fires (
  sync_kind text NOT NULL CHECK (sync_kind IN ('bulk', 'model')),
  sync_id uuid NOT NULL,
  schedule_key text NOT NULL,
  due_at timestamptz NOT NULL,
  execution_id uuid,
  -- false when the tick found the sync already running and started nothing
  started boolean,
  fired_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sync_id, schedule_key, due_at)
);
CREATE INDEX schedule_fires_fired_idx ON schedule_fires (fired_at);

-- What happened to runs (sync completed, failed, canceled...), listed by /api/events and sent to webhooks.
CREATE TABLE events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  type text NOT NULL,
  sync_kind text CHECK (sync_kind IN ('bulk', 'model')),
  sync_id uuid,
  execution_id uuid,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_organization_idx ON events (organization_id, created_at, id);
-- A run reports each outcome once, even if two processes conclude it.
CREATE UNIQUE INDEX events_one_per_execution_and_type ON events (execution_id, type)
  WHERE execution_id IS NOT NULL;

CREATE TABLE webhooks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  endpoint text NOT NULL,
  -- the signing secret, sealed with the store's secret key
  secret text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_organization_idx ON webhooks (organization_id, created_at);

-- One delivery of one event to one webhook, with its attempts: the delivery log.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  response_status integer,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
