-- Chat events name messages and users by id instead of copying them (EventRecord in
-- chatter-core): a replay reads the message or profile as it is now, so deleted or
-- edited text and deleted profiles are kept nowhere but their own rows.
ALTER TABLE chat_events ADD COLUMN message_id TEXT;  -- message.created / message.edited
ALTER TABLE chat_events ADD COLUMN user_id TEXT;     -- chat.member_joined

UPDATE chat_events
   SET message_id = json_extract(payload, '$.message.id'),
       payload = json_object('type', json_extract(payload, '$.type'),
                             'message_id', json_extract(payload, '$.message.id'))
 WHERE json_extract(payload, '$.type') IN ('message.created', 'message.edited');

UPDATE chat_events
   SET user_id = json_extract(payload, '$.user.id'),
       payload = json_object('type', 'chat.member_joined',
                             'user_id', json_extract(payload, '$.user.id'),
                             'role', json_extract(payload, '$.role'))
 WHERE json_extract(payload, '$.type') = 'chat.member_joined';
