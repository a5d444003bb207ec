-- A digest the platform refuses for good: how many rounds were refused and why; once given
-- up, `failed` is set (with `done`, so it is neither retried nor kept past retention).
ALTER TABLE digests ADD COLUMN refusals integer NOT NULL DEFAULT 0;
ALTER TABLE digests ADD COLUMN failed_reason text NOT NULL DEFAULT '';
ALTER TABLE digests ADD COLUMN failed double precision;
