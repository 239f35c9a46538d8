-- The OpenID4VCI issuer (`govcred serve --config`): pending offers, single use of codes
-- and access tokens, nonces, issued records (a status index at most once) and wallet
-- notifications. `IF NOT EXISTS`: databases written before migrations were recorded
-- already have these tables. Portable SQL: SQLite and PostgreSQL.
CREATE TABLE IF NOT EXISTS offers (
    id TEXT PRIMARY KEY,
    configuration_id TEXT NOT NULL,
    claims TEXT NOT NULL,
    subject TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    redeemed BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS used_once (key TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, jti TEXT NOT NULL, expires_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS issued (
    notification_id TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL,
    configuration_id TEXT NOT NULL,
    holder TEXT NOT NULL,
    status_uri TEXT,
    status_index BIGINT,
    issued_at BIGINT NOT NULL,
    UNIQUE (status_uri, status_index)
);
CREATE TABLE IF NOT EXISTS notifications (
    notification_id TEXT NOT NULL,
    event TEXT NOT NULL,
    description TEXT,
    at BIGINT NOT NULL
);
