-- Channels published on the web: each page's secret address. A row whose token is NULL is a
-- channel its moderators took down (`publish = true` in the config file never brings it back:
-- what chat changes wins). Written in the SQL both engines share.
CREATE TABLE channel_pages (
    channel_id TEXT PRIMARY KEY,
    token      TEXT UNIQUE,                      -- the secret part of the page's address
    changed    REAL NOT NULL                     -- when it was last published, moved or taken down
);
-- A channel's past digests, newest first, for its pages and feeds.
CREATE INDEX digests_channel ON digests (channel_id, id);
