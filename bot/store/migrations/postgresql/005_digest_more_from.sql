-- Where a digest's "+N more" stories came from: a JSON list of [feed name, count] pairs.
ALTER TABLE digests ADD COLUMN more_from text NOT NULL DEFAULT '[]';
