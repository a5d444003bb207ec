"""The PostgreSQL engine: a connection pool, tsvector search, many processes."""
