// Compiled with `tsc --noEmit --strict` by the test command: the package's declarations
// type an app's code (a wrong call here is a build error, so it cannot rot).
import { Client, ChatterError, type Chat, type SyncState, type TimelineItem } from "@chatter/sdk";

async function app(): Promise<void> {
  const client = await Client.create({ server: "http://127.0.0.1:8080", persistAs: "main" });
  const me = await client.login("alice", "correct horse battery");
  const name: string = me.display_name;
  client.startSync();
  const state: SyncState = client.syncState();
  if (state.state === "reconnecting") console.log(state.next_in_ms);
  const chat: Chat = await client.createGroup({ title: "Team", visibility: "private", members: [] });
  const timeline = await client.chat(chat.id).timeline();
  const sub = timeline.subscribe((items: TimelineItem[]) => {
    for (const item of items) {
      if (item.send_state.state === "failed") console.log(item.send_state.error.code, item.send_state.retryable);
    }
  });
  await timeline.send("hello");
  const atStart: boolean = await timeline.paginateBackwards(20);
  sub.unsubscribe();
  const receipts: Record<string, number> = client.chat(chat.id).readReceipts();
  const members = await client.chat(chat.id).members();
  console.log(name, atStart, receipts, members[0]?.read_seq, client.chatList()[0]?.unread_count);
  try {
    await client.logout();
  } catch (e) {
    if (e instanceof ChatterError) console.log(e.code, e.field, e.retryAfterMs);
  }
}
void app;
