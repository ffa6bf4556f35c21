-- Chat events name messages and users by id instead of copying them (EventRecord in
-- chatter-core): a replay reads the message or profile as it is now, so deleted or
-- edited text and deleted profiles are kept nowhere but their own rows.
ALTER TABLE chat_events ADD COLUMN message_id TEXT COLLATE "C";  -- message.created / message.edited
ALTER TABLE chat_events ADD COLUMN user_id TEXT COLLATE "C";     -- chat.member_joined

UPDATE chat_events
   SET message_id = payload::jsonb #>> '{message,id}',
       payload = jsonb_build_object('type', payload::jsonb ->> 'type',
                                    'message_id', payload::jsonb #>> '{message,id}')::text
 WHERE payload::jsonb ->> 'type' IN ('message.created', 'message.edited');

UPDATE chat_events
   SET user_id = payload::jsonb #>> '{user,id}',
       payload = jsonb_build_object('type', 'chat.member_joined',
                                    'user_id', payload::jsonb #>> '{user,id}',
                                    'role', payload::jsonb ->> 'role')::text
 WHERE payload::jsonb ->> 'type' = 'chat.member_joined';
