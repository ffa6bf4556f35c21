//! API.md's permission table, row by row: every action in public groups, private groups
//! and direct chats, by the owner, an admin, a plain member and a non-member. Each cell
//! runs on a fresh chat so no cell depends on another.

use crate::harness::{Server, TestUser};
use serde_json::json;

#[derive(Clone, Copy, Debug)]
enum Act {
    See,
    ReadHistory,
    ListMembers,
    Post,
    MarkRead,
    Join,
    AddMember,
    ChangeRole,
    RemovePlainMember,
    RemoveAdmin,
    Rename,
    ChangeVisibility,
    Leave,
    EditOwnMessage,
    EditOthersMessage,
    DeleteOwnMessage,
    DeleteOthersMessage,
}

struct Cast {
    owner: TestUser,
    admin: TestUser,
    member: TestUser,
    outsider: TestUser,
    /// A plain member who writes the "others'" message.
    author: TestUser,
    /// A second admin, the target of "remove an admin".
    admin2: TestUser,
    /// A user nobody added yet.
    newcomer: TestUser,
}

struct Fixture {
    chat: String,
    others_message: String,
    own_message: Option<String>,
}

async fn group_fixture(s: &Server, cast: &Cast, visibility: &str, actor: &TestUser) -> Fixture {
    let body = s
        .post("/v1/chats")
        .by(&cast.owner)
        .json(json!({"kind": "group", "title": "Perm", "visibility": visibility,
            "members": [cast.admin.id, cast.member.id, cast.author.id, cast.admin2.id]}))
        .send()
        .await
        .expect(201);
    let chat = body["id"].as_str().unwrap().to_owned();
    s.make_admin(&chat, &cast.owner, &cast.admin).await;
    s.make_admin(&chat, &cast.owner, &cast.admin2).await;
    let others_message = s.say(&chat, &cast.author, "by the author").await["id"].as_str().unwrap().to_owned();
    let own_message = if actor.id != cast.outsider.id {
        Some(s.say(&chat, actor, "by the actor").await["id"].as_str().unwrap().to_owned())
    } else {
        None
    };
    Fixture { chat, others_message, own_message }
}

async fn direct_fixture(s: &Server, cast: &Cast, actor: &TestUser) -> Fixture {
    // A fresh pair per cell: the owner's slot talks to a new partner each time is not
    // possible with unique pairs, so direct cells reuse the pair's chat; every direct
    // action that succeeds leaves it usable (only sends and own deletions succeed).
    let chat = s.direct(&cast.owner, &cast.member).await;
    let others = if actor.id == cast.member.id { &cast.owner } else { &cast.member };
    let others_message = s.say(&chat, others, "by the other").await["id"].as_str().unwrap().to_owned();
    let own_message = if actor.id != cast.outsider.id {
        Some(s.say(&chat, actor, "by the actor").await["id"].as_str().unwrap().to_owned())
    } else {
        None
    };
    Fixture { chat, others_message, own_message }
}

async fn perform(s: &Server, cast: &Cast, f: &Fixture, actor: &TestUser, act: Act) -> u16 {
    let c = &f.chat;
    let own = f.own_message.clone().unwrap_or_else(|| f.others_message.clone());
    let r = match act {
        Act::See => s.get(&format!("/v1/chats/{c}")).by(actor).send().await,
        Act::ReadHistory => s.get(&format!("/v1/chats/{c}/messages")).by(actor).send().await,
        Act::ListMembers => s.get(&format!("/v1/chats/{c}/members")).by(actor).send().await,
        Act::Post => s.post(&format!("/v1/chats/{c}/messages")).by(actor).json(json!({"text": "hi"})).send().await,
        Act::MarkRead => s.post(&format!("/v1/chats/{c}/read")).by(actor).json(json!({"seq": 1})).send().await,
        Act::Join => s.post(&format!("/v1/chats/{c}/join")).by(actor).send().await,
        Act::AddMember => {
            s.post(&format!("/v1/chats/{c}/members")).by(actor).json(json!({"user_id": cast.newcomer.id})).send().await
        }
        Act::ChangeRole => {
            s.patch(&format!("/v1/chats/{c}/members/{}", cast.author.id))
                .by(actor)
                .json(json!({"role": "admin"}))
                .send()
                .await
        }
        Act::RemovePlainMember => s.delete(&format!("/v1/chats/{c}/members/{}", cast.author.id)).by(actor).send().await,
        Act::RemoveAdmin => s.delete(&format!("/v1/chats/{c}/members/{}", cast.admin2.id)).by(actor).send().await,
        Act::Rename => s.patch(&format!("/v1/chats/{c}")).by(actor).json(json!({"title": "Renamed"})).send().await,
        Act::ChangeVisibility => {
            s.patch(&format!("/v1/chats/{c}")).by(actor).json(json!({"visibility": "private"})).send().await
        }
        Act::Leave => s.post(&format!("/v1/chats/{c}/leave")).by(actor).send().await,
        Act::EditOwnMessage => {
            s.patch(&format!("/v1/chats/{c}/messages/{own}")).by(actor).json(json!({"text": "edited"})).send().await
        }
        Act::EditOthersMessage => {
            s.patch(&format!("/v1/chats/{c}/messages/{}", f.others_message))
                .by(actor)
                .json(json!({"text": "edited"}))
                .send()
                .await
        }
        Act::DeleteOwnMessage => s.delete(&format!("/v1/chats/{c}/messages/{own}")).by(actor).send().await,
        Act::DeleteOthersMessage => {
            s.delete(&format!("/v1/chats/{c}/messages/{}", f.others_message)).by(actor).send().await
        }
    };
    if r.status >= 400 {
        let code = r.body["error"]["code"].as_str().unwrap_or("");
        let expected = match r.status {
            400 => "invalid_request",
            403 => "forbidden",
            404 => "not_found",
            _ => "",
        };
        assert_eq!(code, expected, "{act:?}: {}", r.body);
    }
    r.status
}

async fn cast(s: &Server) -> Cast {
    Cast {
        owner: s.register("owner").await,
        admin: s.register("admin").await,
        member: s.register("member").await,
        outsider: s.register("outsider").await,
        author: s.register("author").await,
        admin2: s.register("admin2").await,
        newcomer: s.register("newcomer").await,
    }
}

/// Rows: action, then expected statuses for owner, admin, member, non-member.
const GROUP_TABLE: &[(Act, [u16; 4], [u16; 4])] = &[
    //                      public: own  adm  mem  non   private: own adm mem non
    (Act::See, [200, 200, 200, 200], [200, 200, 200, 404]),
    (Act::ReadHistory, [200, 200, 200, 200], [200, 200, 200, 404]),
    (Act::ListMembers, [200, 200, 200, 200], [200, 200, 200, 404]),
    (Act::Post, [201, 201, 201, 403], [201, 201, 201, 404]),
    (Act::MarkRead, [204, 204, 204, 403], [204, 204, 204, 404]),
    (Act::Join, [200, 200, 200, 200], [200, 200, 200, 404]),
    (Act::AddMember, [201, 201, 403, 403], [201, 201, 403, 404]),
    (Act::ChangeRole, [200, 403, 403, 403], [200, 403, 403, 404]),
    (Act::RemovePlainMember, [204, 204, 403, 403], [204, 204, 403, 404]),
    (Act::RemoveAdmin, [204, 403, 403, 403], [204, 403, 403, 404]),
    (Act::Rename, [200, 200, 403, 403], [200, 200, 403, 404]),
    (Act::ChangeVisibility, [200, 200, 403, 403], [200, 200, 403, 404]),
    (Act::Leave, [204, 204, 204, 403], [204, 204, 204, 404]),
    (Act::EditOwnMessage, [200, 200, 200, 403], [200, 200, 200, 404]),
    (Act::EditOthersMessage, [403, 403, 403, 403], [403, 403, 403, 404]),
    (Act::DeleteOwnMessage, [204, 204, 204, 403], [204, 204, 204, 404]),
    (Act::DeleteOthersMessage, [204, 204, 403, 403], [204, 204, 403, 404]),
];

#[tokio::test]
async fn group_permission_table_holds_for_every_role() {
    let s = Server::start().await;
    let cast = cast(&s).await;
    let actors = [&cast.owner, &cast.admin, &cast.member, &cast.outsider];
    let mut failures = Vec::new();
    for (act, public, private) in GROUP_TABLE {
        for (visibility, expected) in [("public", public), ("private", private)] {
            for (actor, want) in actors.iter().zip(expected) {
                let f = group_fixture(&s, &cast, visibility, actor).await;
                let got = perform(&s, &cast, &f, actor, *act).await;
                if got != *want {
                    failures
                        .push(format!("{act:?} in a {visibility} group by {}: want {want}, got {got}", actor.username));
                }
            }
        }
    }
    assert!(failures.is_empty(), "permission table mismatches:\n{}", failures.join("\n"));
}

/// Rows for direct chats: expected statuses for member A, member B, non-member.
const DIRECT_TABLE: &[(Act, [u16; 3])] = &[
    (Act::See, [200, 200, 404]),
    (Act::ReadHistory, [200, 200, 404]),
    (Act::ListMembers, [200, 200, 404]),
    (Act::Post, [201, 201, 404]),
    (Act::MarkRead, [204, 204, 404]),
    (Act::Join, [400, 400, 404]),
    (Act::AddMember, [400, 400, 404]),
    (Act::ChangeRole, [400, 400, 404]),
    (Act::RemovePlainMember, [400, 400, 404]),
    (Act::Rename, [400, 400, 404]),
    (Act::ChangeVisibility, [400, 400, 404]),
    (Act::Leave, [400, 400, 404]),
    (Act::EditOwnMessage, [200, 200, 404]),
    (Act::EditOthersMessage, [403, 403, 404]),
    (Act::DeleteOthersMessage, [403, 403, 404]),
    (Act::DeleteOwnMessage, [204, 204, 404]),
];

#[tokio::test]
async fn direct_chat_permission_table_holds() {
    let s = Server::start().await;
    let cast = cast(&s).await;
    // The direct chat's pair is (owner, member); "author" is an outsider here.
    let actors = [&cast.owner, &cast.member, &cast.outsider];
    let mut failures = Vec::new();
    for (act, expected) in DIRECT_TABLE {
        for (actor, want) in actors.iter().zip(expected) {
            let f = direct_fixture(&s, &cast, actor).await;
            let got = perform(&s, &cast, &f, actor, *act).await;
            if got != *want {
                failures.push(format!("{act:?} in a direct chat by {}: want {want}, got {got}", actor.username));
            }
        }
    }
    assert!(failures.is_empty(), "permission table mismatches:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn a_message_id_from_another_chat_is_404_even_for_an_admin() {
    let s = Server::start().await;
    let owner = s.register("owner").await;
    let admin = s.register("admin").await;
    let one = s.group(&owner, "One", "public").await;
    let two = s.group(&owner, "Two", "public").await;
    s.add(&two, &owner, &admin).await;
    s.make_admin(&two, &owner, &admin).await;
    let m = s.say(&one, &owner, "in one").await;
    let id = m["id"].as_str().unwrap();
    for who in [&owner, &admin] {
        s.patch(&format!("/v1/chats/{two}/messages/{id}"))
            .by(who)
            .json(json!({"text": "x"}))
            .send()
            .await
            .expect_error(404, "not_found");
        s.delete(&format!("/v1/chats/{two}/messages/{id}")).by(who).send().await.expect_error(404, "not_found");
    }
    let e = s
        .post(&format!("/v1/chats/{two}/messages"))
        .by(&owner)
        .json(json!({"text": "reply", "reply_to": id}))
        .send()
        .await
        .expect_error(404, "not_found");
    assert_eq!(e["field"], "reply_to");
}
