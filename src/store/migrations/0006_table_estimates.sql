-- The source's estimate of a table's rows when its run started (null when unknown, or when the run
-- reads only the rows after a stored cursor): what progress bars and ETAs measure against.
ALTER TABLE schema_executions ADD COLUMN estimated_records bigint;
