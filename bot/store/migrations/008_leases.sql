-- Named leases: which process holds a job only one may do at a time (the Telegram poller),
-- and until when (unix seconds). A lease past `expires` is free for anyone to take.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires REAL NOT NULL
);
