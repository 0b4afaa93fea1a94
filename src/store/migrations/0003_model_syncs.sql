-- Models (a SQL query or a table on a source connection) and model syncs (reverse ETL).
CREATE TABLE models (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  connection_id uuid NOT NULL REFERENCES connections (id),
  name text NOT NULL,
  -- {"query": "select ..."} or {"table": "public.users"}
  configuration jsonb NOT NULL,
  -- [{name, remote_type, type, logical_type, nullable}] as the source describes the result
  fields jsonb NOT NULL DEFAULT '[]',
  identifier text,
  labels jsonb NOT NULL DEFAULT '[]',
  version integer NOT NULL DEFAULT 1,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX models_organization_idx ON models (organization_id, created_at);

CREATE TABLE model_syncs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  -- A model in use by a sync cannot be deleted.
  model_id uuid NOT NULL REFERENCES models (id),
  target_connection_id uuid NOT NULL REFERENCES connections (id),
  target_object text NOT NULL,
  target_configuration jsonb NOT NULL DEFAULT '{}',
  mode text NOT NULL CHECK (mode IN ('create', 'update', 'updateOrCreate', 'replace', 'append', 'remove', 'snapshot')),
  -- [{source: {model_id, field} | null, override_value, target}]
  fields jsonb NOT NULL DEFAULT '[]',
  -- {source: {model_id, field}, target, function}
  identity jsonb,
  filters jsonb NOT NULL DEFAULT '[]',
  filter_logic text,
  overrides jsonb NOT NULL DEFAULT '[]',
  schedule jsonb NOT NULL DEFAULT '{"frequency": "manual"}',
  active boolean NOT NULL DEFAULT true,
  sync_all_records boolean NOT NULL DEFAULT false,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_syncs_organization_idx ON model_syncs (organization_id, created_at, id);

-- What a model execution has that the shared executions row has no columns for.
CREATE TABLE model_executions (
  execution_id uuid PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,
  inserted bigint NOT NULL DEFAULT 0,
  updated bigint NOT NULL DEFAULT 0,
  deleted bigint NOT NULL DEFAULT 0,
  upserted bigint NOT NULL DEFAULT 0,
  errors jsonb NOT NULL DEFAULT '[]',
  -- Only these identities, sent whether changed or not (the start request's `identities`).
  identities text[]
);

-- Change detection state of targets that cannot hold it themselves (HTTP): the content hash last
-- delivered per identity. Database targets keep this table in the target, next to the records.
CREATE TABLE model_sync_state (
  sync_id uuid NOT NULL REFERENCES model_syncs (id) ON DELETE CASCADE,
  identity text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (sync_id, identity)
);
