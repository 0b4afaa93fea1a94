-- Tracking columns of a model (Polytomic's `tracking_columns`): a row whose values there did not reach
-- the previous run's greatest ones has not changed, and a run from a PostgreSQL source reads only the others.
ALTER TABLE models ADD COLUMN tracking_columns jsonb NOT NULL DEFAULT '[]';
-- The greatest tracking values when the sync's last clean full or tracked run started, and which model
-- version and columns they belong to; null until such a run, and again after the sync is edited.
ALTER TABLE model_syncs ADD COLUMN tracking_marks jsonb;
