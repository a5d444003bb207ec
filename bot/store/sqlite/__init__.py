"""The SQLite engine: one file, one writer connection, FTS5."""
