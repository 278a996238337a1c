-- KernBench submission service, PostgreSQL schema (ADR-0012). Times are Unix milliseconds; flags
-- are BIGINT 0/1 so that both backends decode them the same way.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    admin BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);

CREATE TABLE submissions (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    token_id TEXT NOT NULL REFERENCES tokens (id),
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    component_sha TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    lease_id TEXT,
    worker TEXT,
    lease_until_ms BIGINT,
    created_ms BIGINT NOT NULL,
    started_ms BIGINT,
    finished_ms BIGINT,
    report_sha TEXT,
    text_sha TEXT,
    trace_sha TEXT,
    exit_code BIGINT,
    error TEXT
);

CREATE INDEX submissions_by_status ON submissions (status, seq);
CREATE INDEX submissions_by_owner ON submissions (token_id, seq);
