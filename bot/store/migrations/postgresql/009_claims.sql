-- Claims (the twin of SQLite's 009): which process is polling a feed, or sending a digest from
-- the outbox, and until when (unix seconds); a claim past `lease_until` may be taken over.
ALTER TABLE feeds ADD COLUMN lease_holder TEXT;
ALTER TABLE feeds ADD COLUMN lease_until DOUBLE PRECISION;
ALTER TABLE digests ADD COLUMN lease_holder TEXT;
ALTER TABLE digests ADD COLUMN lease_until DOUBLE PRECISION;
