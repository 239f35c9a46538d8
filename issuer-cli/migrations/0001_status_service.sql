-- The central Status List Service (`govcred serve --status-service`): lists, the
-- entries handed out (primary key (list_id, idx): an index is never handed out twice)
-- and the requests' jti (idempotency). Portable SQL: SQLite and PostgreSQL.
CREATE TABLE lists (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('token', 'bitstring')),
    bits BIGINT NOT NULL,
    size BIGINT NOT NULL CHECK (size > 0),
    used BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE entries (
    list_id TEXT NOT NULL REFERENCES lists (id),
    idx BIGINT NOT NULL,
    client_id TEXT NOT NULL,
    status BIGINT NOT NULL DEFAULT 0,
    status_expiry BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (list_id, idx)
);
CREATE TABLE requests (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    list_id TEXT NOT NULL,
    idx BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
