-- Channels published on the web: each page's secret address (the twin of SQLite's 007).
CREATE TABLE channel_pages (
    channel_id TEXT PRIMARY KEY,
    token      TEXT UNIQUE,
    changed    DOUBLE PRECISION NOT NULL
);
CREATE INDEX digests_channel ON digests (channel_id, id);
