-- Dedup memory that outlives pruned articles, and the running bot's heartbeat.
CREATE TABLE seen_keys (
    feed_id   INTEGER NOT NULL,
    dedup_key TEXT NOT NULL,
    seen      REAL NOT NULL,                     -- when the article was first seen
    PRIMARY KEY (feed_id, dedup_key)
) WITHOUT ROWID;
CREATE INDEX seen_keys_seen ON seen_keys (seen);

-- One row, written by the running bot: start, heartbeat, last poll and delivery rounds.
CREATE TABLE runtime (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    pid         INTEGER NOT NULL,
    started     REAL NOT NULL,
    heartbeat   REAL NOT NULL,
    last_poll   REAL,                            -- when the last poll round finished
    last_digest REAL,                            -- when the last delivery round finished
    stopped     REAL                             -- set on a clean stop
);
