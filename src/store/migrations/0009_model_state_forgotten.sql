-- An append run that sends every record again (a resync) forgets the delivered hashes once, at its
-- first attempt; a later attempt of the same run (after a kill) compares with what the first one
-- delivered instead of sending it twice.
ALTER TABLE model_executions ADD COLUMN state_forgotten boolean NOT NULL DEFAULT false;
