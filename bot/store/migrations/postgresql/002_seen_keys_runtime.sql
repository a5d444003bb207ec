-- Dedup memory that outlives pruned articles, and the running bot's heartbeat.
CREATE TABLE seen_keys (
    feed_id   bigint NOT NULL,
    dedup_key text NOT NULL,
    seen      double precision NOT NULL,         -- when the article was first seen
    PRIMARY KEY (feed_id, dedup_key)
);
CREATE INDEX seen_keys_seen ON seen_keys (seen);

-- One row, written by the running bot: start, heartbeat, last poll and delivery rounds.
CREATE TABLE runtime (
    id          integer PRIMARY KEY CHECK (id = 1),
    pid         integer NOT NULL,
    started     double precision NOT NULL,
    heartbeat   double precision NOT NULL,
    last_poll   double precision,                -- when the last poll round finished
    last_digest double precision,                -- when the last delivery round finished
    stopped     double precision                 -- set on a clean stop
);
