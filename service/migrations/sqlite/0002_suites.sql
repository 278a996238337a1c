-- Suites and leaderboards (ADR-0014). A suite's definition is its JSON file, immutable once
-- registered. A suite submission keeps its per-run results in a blob (`suite_result_sha`),
-- the scores it shows in `scores` (JSON), and, when it is valid, the sort keys of its
-- ranking metrics (ascending = better) in rank1..rank3.
CREATE TABLE suites (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

ALTER TABLE submissions ADD COLUMN suite TEXT REFERENCES suites (name);
ALTER TABLE submissions ADD COLUMN suite_result_sha TEXT;
ALTER TABLE submissions ADD COLUMN scores TEXT;
ALTER TABLE submissions ADD COLUMN rank1 REAL;
ALTER TABLE submissions ADD COLUMN rank2 REAL;
ALTER TABLE submissions ADD COLUMN rank3 REAL;

CREATE INDEX submissions_by_suite ON submissions (suite, token_id, rank1);
