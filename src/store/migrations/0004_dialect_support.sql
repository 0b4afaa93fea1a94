-- Who started and who canceled a run, and its W3C trace id (the `traceparent` of the request that
-- started it, or a generated one): domain facts the Celigo and Qontext faces present.
ALTER TABLE executions ADD COLUMN trace_id text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '');
ALTER TABLE executions ADD COLUMN triggered_by text;
ALTER TABLE executions ADD COLUMN canceled_by text;
-- Run history of an organization, newest first (sync logs, latest job per sync).
CREATE INDEX executions_organization_idx ON executions (organization_id, created_at DESC, id DESC);
-- Purge of ended runs past their retention.
CREATE INDEX executions_completed_idx ON executions (completed_at) WHERE completed_at IS NOT NULL;
