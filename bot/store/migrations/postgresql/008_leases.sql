-- Named leases (the twin of SQLite's 008): who holds a job only one process may do, and until
-- when (unix seconds).
CREATE TABLE leases (
    name    TEXT PRIMARY KEY,
    holder  TEXT NOT NULL,
    expires DOUBLE PRECISION NOT NULL
);
