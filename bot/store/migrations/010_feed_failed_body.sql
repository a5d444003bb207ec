-- The hash of the body whose parse failed at the last poll ('' otherwise): the same bytes
-- again fail alike, so they are not parsed again (a re-fetch of a broken feed starts no
-- parse worker).
ALTER TABLE feeds ADD COLUMN failed_body_hash TEXT NOT NULL DEFAULT '';
