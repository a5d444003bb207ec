-- When a feed's current run of failures began (meaningful while failures > 0).
ALTER TABLE feeds ADD COLUMN failing_since double precision;
