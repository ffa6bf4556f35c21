-- Chatter's embedded schema. Times are microseconds since the Unix epoch (UTC).

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    display_key   TEXT NOT NULL,         -- lowercased display name, for search
    bio           TEXT NOT NULL DEFAULT '',
    avatar_url    TEXT NOT NULL DEFAULT '',
    password_hash TEXT,                  -- NULL once the account is deleted
    created_at    INTEGER NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX users_display_key ON users (display_key);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    token_hash   TEXT NOT NULL UNIQUE,
    device_name  TEXT,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);

CREATE TABLE chats (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('group', 'direct')),
    title            TEXT,
    title_key        TEXT,               -- lowercased title, for search
    visibility       TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    owner_id         TEXT,
    direct_key       TEXT UNIQUE,        -- the pair of a direct chat: unique per pair
    member_count     INTEGER NOT NULL,
    last_seq         INTEGER NOT NULL DEFAULT 0,
    last_event_seq   INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL
);
CREATE INDEX chats_public_by_title ON chats (title_key, id) WHERE kind = 'group' AND visibility = 'public';

CREATE TABLE members (
    chat_id   TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at INTEGER NOT NULL,
    read_seq  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);
CREATE INDEX members_by_join ON members (chat_id, joined_at, user_id);

CREATE TABLE messages (
    chat_id    TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    id         TEXT NOT NULL UNIQUE,
    sender_id  TEXT NOT NULL REFERENCES users (id),
    text       TEXT NOT NULL,
    client_id  TEXT,
    reply_to   TEXT,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
        deleted    INTEGER NOT NULL DEFAULT 0,
    event_seq  INTEGER NOT NULL DEFAULT 0, -- the event_seq of its message.created
    PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_idempotency ON messages (chat_id, sender_id, client_id) WHERE client_id IS NOT NULL;

-- Every change inside a chat, numbered by a gap-free event_seq, for gap-free resume.
CREATE TABLE chat_events (
    chat_id   TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    event_seq INTEGER NOT NULL,
    payload   TEXT NOT NULL,             -- the event as JSON (type and fields)
    PRIMARY KEY (chat_id, event_seq)
) WITHOUT ROWID;
