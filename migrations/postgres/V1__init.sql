-- Chatter's Postgres schema: the SQLite schema (migrations/sqlite/0001_init.sql) in
-- Postgres types. Times are microseconds since the Unix epoch (UTC), as BIGINT; seqs
-- and counts are BIGINT too. Ids, usernames and search keys compare bytewise
-- (COLLATE "C"), as in SQLite, whatever the database's default collation: keyset
-- cursors then order the same on every backend, and prefix searches can use the
-- indexes.

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    display_key   TEXT COLLATE "C" NOT NULL,  -- lowercased display name, for search
    bio           TEXT NOT NULL DEFAULT '',
    avatar_url    TEXT NOT NULL DEFAULT '',
    password_hash TEXT,                       -- NULL once the account is deleted
    created_at    BIGINT NOT NULL,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX users_display_key ON users (display_key);

CREATE TABLE sessions (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    token_hash   TEXT NOT NULL UNIQUE,
    device_name  TEXT,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);

CREATE TABLE chats (
    id               TEXT COLLATE "C" PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('group', 'direct')),
    title            TEXT,
    title_key        TEXT COLLATE "C",        -- lowercased title, for search
    visibility       TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    owner_id         TEXT COLLATE "C",
    direct_key       TEXT COLLATE "C" UNIQUE, -- the pair of a direct chat: unique per pair
    member_count     BIGINT NOT NULL,
    last_seq         BIGINT NOT NULL DEFAULT 0,
    last_event_seq   BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL
);
CREATE INDEX chats_public_by_title ON chats (title_key, id) WHERE kind = 'group' AND visibility = 'public';

CREATE TABLE members (
    chat_id   TEXT COLLATE "C" NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at BIGINT NOT NULL,
    read_seq  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, user_id)
);
-- A user's chats (chat_heads, chats_of_user, presence_audience) without visiting the
-- member rows: the chat id is in the index.
CREATE INDEX members_by_user ON members (user_id, chat_id);
CREATE INDEX members_by_join ON members (chat_id, joined_at, user_id);

CREATE TABLE messages (
    chat_id    TEXT COLLATE "C" NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    id         TEXT COLLATE "C" NOT NULL UNIQUE,
    sender_id  TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    text       TEXT NOT NULL,
    client_id  TEXT,
    reply_to   TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    edited_at  BIGINT,
    deleted    BOOLEAN NOT NULL DEFAULT FALSE,
    event_seq  BIGINT NOT NULL DEFAULT 0,     -- the event_seq of its message.created
    -- History pages by keyset on this key (never OFFSET).
    PRIMARY KEY (chat_id, seq)
);
CREATE UNIQUE INDEX messages_idempotency ON messages (chat_id, sender_id, client_id) WHERE client_id IS NOT NULL;

-- Every change inside a chat, numbered by a gap-free event_seq, for gap-free resume.
CREATE TABLE chat_events (
    chat_id   TEXT COLLATE "C" NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    event_seq BIGINT NOT NULL,
    payload   TEXT NOT NULL,                  -- the event as JSON (type and fields)
    PRIMARY KEY (chat_id, event_seq)
);
