-- Feeds with their fetch state, stored articles with a full-text index, channels, the outbox.
CREATE TABLE feeds (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',      -- configured name ('' = use title)
    title         TEXT NOT NULL DEFAULT '',      -- the feed's own title
    tags          TEXT NOT NULL DEFAULT '',      -- configured tags, space separated
    interval_s    INTEGER NOT NULL DEFAULT 900,
    full_text     INTEGER NOT NULL DEFAULT 0,
    origin        TEXT NOT NULL DEFAULT 'config', -- 'config' or the chat that added it
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    body_hash     TEXT NOT NULL DEFAULT '',
    failures      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    last_polled   REAL,                           -- unix seconds
    next_poll     REAL NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    removed       INTEGER NOT NULL DEFAULT 0      -- removed from config or chat; kept for dedup
);
CREATE INDEX feeds_due ON feeds (next_poll) WHERE disabled = 0 AND removed = 0;

CREATE TABLE articles (
    id         INTEGER PRIMARY KEY,
    feed_id    INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    dedup_key  TEXT NOT NULL,                  -- unique within its feed
    url        TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL,
    summary    TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL DEFAULT '',
    categories TEXT NOT NULL DEFAULT '',         -- the feed's own categories, tab separated
    tags       TEXT NOT NULL DEFAULT '',         -- display tags, space separated
    lang       TEXT NOT NULL DEFAULT '',
    published  REAL,
    first_seen REAL NOT NULL,
    cluster_id INTEGER NOT NULL DEFAULT 0,
    UNIQUE (feed_id, dedup_key)
);
CREATE INDEX articles_seen ON articles (first_seen);
CREATE INDEX articles_when ON articles (COALESCE(published, first_seen));
CREATE INDEX articles_feed_seen ON articles (feed_id, first_seen);
CREATE INDEX articles_url ON articles (url) WHERE url != '';
CREATE INDEX articles_cluster ON articles (cluster_id) WHERE cluster_id != 0;

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, summary, tags,
    content = 'articles', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
-- BM25 weights: a word in the title counts most, then tags, then the summary.
INSERT INTO articles_fts (articles_fts, rank) VALUES ('rank', 'bm25(10.0, 2.0, 5.0)');
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, summary, tags)
    VALUES (new.id, new.title, new.summary, new.tags);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, summary, tags)
    VALUES ('delete', old.id, old.title, old.summary, old.tags);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, summary, tags ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, summary, tags)
    VALUES ('delete', old.id, old.title, old.summary, old.tags);
    INSERT INTO articles_fts (rowid, title, summary, tags)
    VALUES (new.id, new.title, new.summary, new.tags);
END;

-- A channel's settings changed from chat; NULL means "as the config file says".
CREATE TABLE channels (
    id            TEXT PRIMARY KEY,
    feeds         TEXT,                          -- tab separated feed names/URLs, "*" = all
    filter        TEXT,
    digest        TEXT,
    timezone      TEXT,
    max_items     INTEGER,
    paused_reason TEXT NOT NULL DEFAULT '',
    last_digest   REAL,                          -- the slot of the last digest composed
    last_breaking REAL,                          -- when breaking news was last posted
    created       REAL NOT NULL
);

-- The outbox: a digest's items are written before sending and marked sent after.
CREATE TABLE digests (
    id         INTEGER PRIMARY KEY,
    channel_id TEXT NOT NULL,
    slot       REAL NOT NULL,
    title      TEXT NOT NULL,
    created    REAL NOT NULL,
    more       INTEGER NOT NULL DEFAULT 0,
    done       REAL
);
CREATE INDEX digests_pending ON digests (created) WHERE done IS NULL;

CREATE TABLE deliveries (
    channel_id TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    digest_id  INTEGER NOT NULL REFERENCES digests (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,                 -- the item's place in its digest
    lead       INTEGER NOT NULL DEFAULT 1,       -- 0 for "also" articles of the same story
    message_id TEXT,                             -- the platform's id once sent
    sent       REAL,
    PRIMARY KEY (channel_id, article_id)
);
CREATE INDEX deliveries_digest ON deliveries (digest_id, position);
