-- The target ("<connection id>/<object>") that a model sync's change detection state was last written
-- for by a whole run; a run into another target (the sync was edited) sends every record. Null: not known.
ALTER TABLE model_syncs ADD COLUMN state_target text;
