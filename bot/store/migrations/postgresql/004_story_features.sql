-- What same-story and related matching compare: weighted anchors (names, figures, rare words)
-- and the story's meaning as a packed vector (256 int8 values; empty when not computed).
ALTER TABLE articles ADD COLUMN anchors text NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN vector bytea NOT NULL DEFAULT '\x'::bytea;
