-- Bulk syncs, their executions (one child per table), console logs and record log files.
CREATE TABLE bulk_syncs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  source_connection_id uuid NOT NULL REFERENCES connections (id),
  destination_connection_id uuid NOT NULL REFERENCES connections (id),
  mode text NOT NULL CHECK (mode IN ('snapshot', 'replicate')),
  active boolean NOT NULL DEFAULT true,
  discover boolean NOT NULL DEFAULT false,
  normalize_names text NOT NULL DEFAULT 'enabled',
  concurrency_limit integer NOT NULL DEFAULT 4,
  source_configuration jsonb NOT NULL DEFAULT '{}',
  destination_configuration jsonb NOT NULL DEFAULT '{}',
  schedule jsonb NOT NULL DEFAULT '{"frequency": "manual"}',
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bulk_syncs_organization_idx ON bulk_syncs (organization_id, created_at);

-- One row per source table ("schema") known to the sync, selected or not.
CREATE TABLE bulk_sync_schemas (
  sync_id uuid NOT NULL REFERENCES bulk_syncs (id) ON DELETE CASCADE,
  schema_id text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  output_name text NOT NULL,
  user_output_name text,
  partition_key text,
  tracking_field text,
  filters jsonb NOT NULL DEFAULT '[]',
  -- [{id, enabled, output_name, user_output_name, obfuscated}]; empty = every source field.
  fields jsonb NOT NULL DEFAULT '[]',
  PRIMARY KEY (sync_id, schema_id)
);

CREATE TABLE bulk_sync_schedules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sync_id uuid NOT NULL REFERENCES bulk_syncs (id) ON DELETE CASCADE,
  schedule jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One run of a sync. The internal status words are those of src/domain/execution-status.ts.
CREATE TABLE executions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  sync_kind text NOT NULL CHECK (sync_kind IN ('bulk', 'model')),
  sync_id uuid NOT NULL,
  status text NOT NULL,
  type text NOT NULL DEFAULT 'manual',
  is_resync boolean NOT NULL DEFAULT false,
  is_test boolean NOT NULL DEFAULT false,
  fetch_mode text,
  resync_mode text,
  schema_ids text[],
  status_message text,
  record_count bigint NOT NULL DEFAULT 0,
  error_count bigint NOT NULL DEFAULT 0,
  warning_count bigint NOT NULL DEFAULT 0,
  attempt integer NOT NULL DEFAULT 0,
  job_id text,
  heartbeat_at timestamptz,
  cancel_requested_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  completed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX executions_sync_idx ON executions (sync_id, created_at DESC);
-- At most one active run per sync, whoever asks: the database enforces it.
CREATE UNIQUE INDEX executions_one_active_per_sync ON executions (sync_id)
  WHERE status IN ('created', 'queued', 'running', 'canceling');

CREATE TABLE schema_executions (
  execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  schema_id text NOT NULL,
  output_name text NOT NULL,
  status text NOT NULL,
  status_message text,
  record_count bigint NOT NULL DEFAULT 0,
  inserted_count bigint NOT NULL DEFAULT 0,
  updated_count bigint NOT NULL DEFAULT 0,
  error_count bigint NOT NULL DEFAULT 0,
  warning_count bigint NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  completed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, schema_id)
);

-- Append-only console log; the id is the `after` cursor.
CREATE TABLE console_logs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  schema_id text,
  level text NOT NULL,
  message text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_logs_execution_idx ON console_logs (execution_id, schema_id, id);

CREATE TABLE record_log_files (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  schema_id text,
  type text NOT NULL,
  filename text NOT NULL,
  records bigint NOT NULL DEFAULT 0,
  bytes bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (execution_id, filename)
);
