-- Claims: which process is polling a feed, or sending a digest from the outbox, and until when
-- (unix seconds). A claim past `lease_until` is a dead process's: anyone may take it over.
ALTER TABLE feeds ADD COLUMN lease_holder TEXT;
ALTER TABLE feeds ADD COLUMN lease_until REAL;
ALTER TABLE digests ADD COLUMN lease_holder TEXT;
ALTER TABLE digests ADD COLUMN lease_until REAL;
