//! The store keeps users, API tokens, browser sessions and the audit log, the
//! same on SQLite and on Postgres (each test runs once on each).

mod common;

use common::{Backend, TestDatabase};
use dataport::store::{NewAuditEntry, Role, StoreError};

async fn keeps_users_with_unique_names_and_their_hashes(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    assert_eq!(store.user_count().await.unwrap(), 0);
    let ada = store
        .create_user("ada", "$argon2id$hash-of-ada", Role::Admin)
        .await
        .unwrap();
    store
        .create_user("bob", "$argon2id$hash-of-bob", Role::Viewer)
        .await
        .unwrap();
    let taken = store
        .create_user("ada", "$argon2id$other", Role::Viewer)
        .await;
    assert!(
        matches!(taken, Err(StoreError::UserNameTaken { .. })),
        "{taken:?}"
    );

    let (found, hash) = store.user_with_password("ada").await.unwrap().unwrap();
    assert_eq!(found, ada);
    assert_eq!(hash, "$argon2id$hash-of-ada");
    assert!(store.user_with_password("carol").await.unwrap().is_none());
    let names: Vec<_> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ada", "bob"]);
    store
        .set_password_hash(ada.id, "$argon2id$new")
        .await
        .unwrap();
    let (_, hash) = store.user_with_password("ada").await.unwrap().unwrap();
    assert_eq!(hash, "$argon2id$new");
    assert_eq!(store.user(ada.id).await.unwrap(), Some(ada));
}

async fn finds_users_by_token_hash_until_revoked_or_removed(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let ada = store.create_user("ada", "h", Role::Operator).await.unwrap();
    let first = store.create_token(ada.id, "ci", "hash-1").await.unwrap();
    store
        .create_token(ada.id, "laptop", "hash-2")
        .await
        .unwrap();
    assert_eq!(
        store.user_for_token("hash-1").await.unwrap().unwrap().name,
        "ada"
    );
    assert_eq!(store.tokens_of(ada.id).await.unwrap().len(), 2);

    store.delete_token(ada.id, first.id).await.unwrap();
    assert!(store.user_for_token("hash-1").await.unwrap().is_none());
    assert!(
        store.delete_token(ada.id, first.id).await.is_err(),
        "gone already"
    );

    store.delete_user(ada.id).await.unwrap();
    assert!(store.user_for_token("hash-2").await.unwrap().is_none());
    assert!(store.tokens_of(ada.id).await.unwrap().is_empty());
    assert!(store.user(ada.id).await.unwrap().is_none());
}

async fn keeps_sessions_until_they_expire_or_end(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    assert!(store.create_session("s1", "{}", 2_000).await.unwrap());
    assert!(
        !store.create_session("s1", "{}", 2_000).await.unwrap(),
        "ids never shared"
    );
    store
        .save_session("s1", r#"{"user":"x"}"#, 3_000)
        .await
        .unwrap();
    assert_eq!(
        store.session("s1", 1_000).await.unwrap(),
        Some((r#"{"user":"x"}"#.to_owned(), 3_000))
    );
    assert_eq!(store.session("s1", 3_000).await.unwrap(), None, "expired");
    store.save_session("s2", "{}", 500).await.unwrap();
    assert_eq!(store.delete_expired_sessions(1_000).await.unwrap(), 1);
    store.delete_session("s1").await.unwrap();
    assert_eq!(store.session("s1", 0).await.unwrap(), None);
}

async fn keeps_the_audit_log_newest_first(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let instance = uuid::Uuid::new_v4();
    for n in 0..3 {
        store
            .append_audit(NewAuditEntry {
                actor: "ada".into(),
                action: "update".into(),
                target: "data/orders".into(),
                instance_id: (n != 1).then_some(instance),
                detail: format!("change {n}"),
                result: "ok".into(),
            })
            .await
            .unwrap();
    }
    let (entries, total) = store.audit_page(2, 0).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].detail, "change 2");
    assert_eq!(entries[1].instance_id, None);
    let (older, _) = store.audit_page(2, 2).await.unwrap();
    assert_eq!(older[0].detail, "change 0");
    assert_eq!(older[0].instance_id, Some(instance));
}

on_both_databases!(
    keeps_users_with_unique_names_and_their_hashes,
    finds_users_by_token_hash_until_revoked_or_removed,
    keeps_sessions_until_they_expire_or_end,
    keeps_the_audit_log_newest_first,
);
