//! The store keeps instances, revisions and operations, the same on SQLite and
//! on Postgres: every test below runs once on each (`sqlite::` and `postgres::`).

mod common;

use common::{Backend, TestDatabase};
use dataport::store::{
    InstanceFilter, InstanceStatus, JobWish, NewInstance, OperationKind, OperationState,
    RevisionChange, StoreError,
};
use serde_json::json;

fn flink(namespace: &str, name: &str) -> NewInstance {
    NewInstance {
        id: uuid::Uuid::new_v4(),
        app: "flink".into(),
        name: name.into(),
        namespace: namespace.into(),
        version: "1.20".into(),
        params: json!({"taskManagerReplicas": 2, "highAvailability": false}),
        objects: json!([{"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment"}]),
        actor: "alice".into(),
    }
}

async fn installs_an_instance_with_its_first_revision_and_operation(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let (instance, revision, operation) = store
        .create_instance(flink("data", "orders"))
        .await
        .unwrap();

    let stored = store.instance(instance.id).await.unwrap();
    assert_eq!(stored, instance);
    assert_eq!(stored.status, InstanceStatus::Installing);
    assert_eq!(stored.current_revision, 1);
    assert_eq!(stored.params["taskManagerReplicas"], 2);

    assert_eq!(
        store.revisions(instance.id).await.unwrap(),
        std::slice::from_ref(&revision)
    );
    assert_eq!(revision.number, 1);
    assert_eq!(revision.objects[0]["kind"], "FlinkDeployment");

    assert_eq!(
        store.operations(instance.id).await.unwrap(),
        std::slice::from_ref(&operation)
    );
    assert_eq!(operation.kind, OperationKind::Install);
    assert_eq!(operation.state, OperationState::Pending);
    assert_eq!(operation.actor, "alice");
}

async fn refuses_a_second_instance_with_the_same_namespace_and_name(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let (first, _, _) = store
        .create_instance(flink("data", "orders"))
        .await
        .unwrap();

    let mut other_app = flink("data", "orders");
    other_app.app = "zookeeper".into();
    match store.create_instance(other_app).await {
        Err(StoreError::NameTaken { namespace, name }) => {
            assert_eq!((namespace.as_str(), name.as_str()), ("data", "orders"))
        }
        other => panic!("expected NameTaken, got {other:?}"),
    }
    // Nothing of the refused install was written.
    assert_eq!(store.instances(None).await.unwrap().len(), 1);
    assert_eq!(store.revisions(first.id).await.unwrap().len(), 1);
    assert_eq!(store.unfinished_operations().await.unwrap().len(), 1);

    // The same name in another namespace is another instance.
    store
        .create_instance(flink("staging", "orders"))
        .await
        .unwrap();
    assert_eq!(store.instances(None).await.unwrap().len(), 2);
}

async fn installs_an_uninstalled_name_again_linked_to_the_old_record(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let (old, _, _) = store
        .create_instance(flink("data", "orders"))
        .await
        .unwrap();
    store
        .set_status(old.id, InstanceStatus::Uninstalled)
        .await
        .unwrap();
    let (new, _, _) = store
        .create_instance(flink("data", "orders"))
        .await
        .unwrap();
    assert_ne!(new.id, old.id);
    assert_eq!(new.previous_id, Some(old.id));
    assert_eq!(
        store.instance(new.id).await.unwrap().previous_id,
        Some(old.id)
    );
    assert_eq!(
        store.reinstalled_as(old.id).await.unwrap().map(|i| i.id),
        Some(new.id)
    );
    // The name finds the live one; a third install is refused while it lives.
    let named = store
        .instance_named("data", "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(named.id, new.id);
    assert!(matches!(
        store.create_instance(flink("data", "orders")).await,
        Err(StoreError::NameTaken { .. })
    ));
    // The old record's history stays.
    assert_eq!(store.revisions(old.id).await.unwrap().len(), 1);
    assert_eq!(store.operations(old.id).await.unwrap().len(), 1);
}

async fn counts_instances_per_app_without_the_uninstalled(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let (a, _, _) = store.create_instance(flink("data", "a")).await.unwrap();
    store.create_instance(flink("data", "b")).await.unwrap();
    let mut zookeeper = flink("data", "zk");
    zookeeper.app = "zookeeper".into();
    store.create_instance(zookeeper).await.unwrap();

    let mut counts = store.instance_counts().await.unwrap();
    counts.sort();
    assert_eq!(
        counts,
        [("flink".to_owned(), 2), ("zookeeper".to_owned(), 1)]
    );

    store
        .set_status(a.id, InstanceStatus::Uninstalled)
        .await
        .unwrap();
    let mut counts = store.instance_counts().await.unwrap();
    counts.sort();
    assert_eq!(
        counts,
        [("flink".to_owned(), 1), ("zookeeper".to_owned(), 1)]
    );

    let flinks: Vec<_> = store
        .instances(Some("flink"))
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.name, i.status))
        .collect();
    assert_eq!(
        flinks,
        [
            ("a".to_owned(), InstanceStatus::Uninstalled),
            ("b".to_owned(), InstanceStatus::Installing)
        ]
    );
}

async fn records_how_an_operation_ends(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let (_, _, ok) = store.create_instance(flink("data", "ok")).await.unwrap();
    let (failing, _, bad) = store.create_instance(flink("data", "bad")).await.unwrap();

    store.start_operation(ok.id).await.unwrap();
    let unfinished: Vec<_> = store
        .unfinished_operations()
        .await
        .unwrap()
        .into_iter()
        .map(|op| (op.id, op.state))
        .collect();
    assert_eq!(
        unfinished,
        [
            (ok.id, OperationState::Running),
            (bad.id, OperationState::Pending)
        ]
    );

    store.finish_operation(ok.id, None).await.unwrap();
    store
        .finish_operation(bad.id, Some("admission webhook denied the request"))
        .await
        .unwrap();
    assert!(store.unfinished_operations().await.unwrap().is_empty());

    let failed = &store.operations(failing.id).await.unwrap()[0];
    assert_eq!(failed.state, OperationState::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("admission webhook denied the request")
    );
    assert!(failed.finished_at.is_some());
}

async fn says_not_found_for_unknown_ids(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let unknown = uuid::Uuid::new_v4();
    assert!(matches!(
        store.instance(unknown).await,
        Err(StoreError::NotFound {
            what: "instance",
            ..
        })
    ));
    assert!(matches!(
        store.set_status(unknown, InstanceStatus::Running).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.finish_operation(unknown, None).await,
        Err(StoreError::NotFound {
            what: "operation",
            ..
        })
    ));
}

async fn keeps_data_across_restarts_and_migrates_once(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (instance, _, _) = {
        let store = database.store().await;
        let created = store
            .create_instance(flink("data", "durable"))
            .await
            .unwrap();
        store.close().await;
        created
    };
    // A second start runs the migrations again: a no-op that keeps the rows.
    let store = database.store().await;
    assert_eq!(store.instance(instance.id).await.unwrap().name, "durable");
}

async fn finds_instances_by_name_and_revisions_by_number(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let (instance, revision, _) = store
        .create_instance(flink("data", "orders"))
        .await
        .unwrap();
    assert_eq!(
        store.instance_named("data", "orders").await.unwrap(),
        Some(instance.clone())
    );
    assert_eq!(store.instance_named("other", "orders").await.unwrap(), None);
    assert_eq!(store.revision(instance.id, 1).await.unwrap(), revision);
    assert!(matches!(
        store.revision(instance.id, 2).await,
        Err(StoreError::NotFound {
            what: "revision",
            ..
        })
    ));
}

async fn pages_through_instances_with_filters(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    for i in 0..7 {
        let mut new = flink(if i % 2 == 0 { "even" } else { "odd" }, &format!("f{i}"));
        if i == 6 {
            new.app = "zookeeper".into();
        }
        let (instance, _, _) = store.create_instance(new).await.unwrap();
        if i < 2 {
            store
                .set_status(instance.id, InstanceStatus::Running)
                .await
                .unwrap();
        }
    }
    let all = InstanceFilter::default();
    let (page, total) = store.instance_page(&all, 3, 0).await.unwrap();
    assert_eq!(total, 7);
    let names: Vec<_> = page
        .iter()
        .map(|i| (i.namespace.as_str(), i.name.as_str()))
        .collect();
    assert_eq!(names, [("even", "f0"), ("even", "f2"), ("even", "f4")]);
    let (last, _) = store.instance_page(&all, 3, 6).await.unwrap();
    assert_eq!(last.len(), 1);

    let odd_flinks = InstanceFilter {
        app: "flink".into(),
        namespace: "odd".into(),
        status: String::new(),
    };
    let (page, total) = store.instance_page(&odd_flinks, 50, 0).await.unwrap();
    assert_eq!((page.len(), total), (3, 3));
    let running = InstanceFilter {
        status: "Running".into(),
        ..InstanceFilter::default()
    };
    assert_eq!(store.instance_page(&running, 50, 0).await.unwrap().1, 2);
    let zookeepers = InstanceFilter {
        app: "zookeeper".into(),
        ..InstanceFilter::default()
    };
    assert_eq!(
        store.instance_page(&zookeepers, 50, 0).await.unwrap().0[0].name,
        "f6"
    );
}

async fn queues_an_operation_with_the_status_it_implies(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let (instance, _, install) = store
        .create_instance(flink("data", "orders"))
        .await
        .unwrap();
    store.finish_operation(install.id, None).await.unwrap();
    let uninstall = store
        .queue_operation(
            instance.id,
            OperationKind::Uninstall,
            InstanceStatus::Uninstalling,
            "bob",
        )
        .await
        .unwrap();
    assert_eq!(
        store.instance(instance.id).await.unwrap().status,
        InstanceStatus::Uninstalling
    );
    assert_eq!(
        store.unfinished_operations().await.unwrap(),
        std::slice::from_ref(&uninstall)
    );
    store
        .set_progress(
            uninstall.id,
            "waiting for finalizer f on FlinkDeployment orders",
        )
        .await
        .unwrap();
    let stored = store.operations(instance.id).await.unwrap();
    assert_eq!(stored[0].kind, OperationKind::Uninstall);
    assert_eq!(
        stored[0].progress.as_deref(),
        Some("waiting for finalizer f on FlinkDeployment orders")
    );
    assert!(matches!(
        store
            .queue_operation(
                uuid::Uuid::new_v4(),
                OperationKind::Uninstall,
                InstanceStatus::Uninstalling,
                "bob"
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn adds_revisions_one_writer_at_a_time(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let (instance, _, _) = store
        .create_instance(flink("data", "orders"))
        .await
        .unwrap();
    let change = |slots: i64| RevisionChange {
        kind: OperationKind::Update,
        version: "1.19".into(),
        params: json!({"taskSlots": slots}),
        objects: json!([]),
        actor: "carol".into(),
    };
    let (revision, operation) = store.add_revision(instance.id, 1, change(4)).await.unwrap();
    assert_eq!((revision.number, operation.revision), (2, Some(2)));
    let stored = store.instance(instance.id).await.unwrap();
    assert_eq!(
        (stored.current_revision, stored.status),
        (2, InstanceStatus::Updating)
    );
    assert_eq!(
        (stored.version.as_str(), &stored.params),
        ("1.19", &json!({"taskSlots": 4}))
    );

    // A second writer that read revision 1 is refused, and writes nothing.
    assert!(matches!(
        store.add_revision(instance.id, 1, change(8)).await,
        Err(StoreError::Changed { .. })
    ));
    assert_eq!(store.revisions(instance.id).await.unwrap().len(), 2);
    assert_eq!(store.operations(instance.id).await.unwrap().len(), 2);
}

async fn keeps_session_jobs_by_name_while_they_exist(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let store = database.store().await;
    let (session, _, _) = store
        .create_instance(flink("data", "analytics"))
        .await
        .unwrap();
    let params = json!({"jarURI": "local:///opt/etl.jar", "upgradeMode": "savepoint"});
    let etl = store
        .create_job(session.id, "etl", params.clone())
        .await
        .unwrap();
    assert_eq!(etl.state, JobWish::Running);
    store
        .create_job(session.id, "audit", json!({}))
        .await
        .unwrap();
    assert!(matches!(
        store.create_job(session.id, "etl", json!({})).await,
        Err(StoreError::JobNameTaken { name }) if name == "etl"
    ));
    assert_eq!(
        store
            .jobs(session.id)
            .await
            .unwrap()
            .iter()
            .map(|job| job.name.as_str())
            .collect::<Vec<_>>(),
        ["etl", "audit"],
        "oldest first"
    );

    let upgraded = json!({"jarURI": "local:///opt/etl-2.jar", "upgradeMode": "savepoint"});
    store
        .update_job(etl.id, &upgraded, JobWish::Suspended)
        .await
        .unwrap();
    let stored = store.job(session.id, "etl").await.unwrap();
    assert_eq!(
        (stored.state, &stored.params),
        (JobWish::Suspended, &upgraded)
    );

    // At the session's uninstall every job goes; the name is free again.
    assert_eq!(store.delete_jobs_of(session.id).await.unwrap(), 2);
    assert!(store.jobs(session.id).await.unwrap().is_empty());
    assert!(matches!(
        store.job(session.id, "etl").await,
        Err(StoreError::JobNotFound { .. })
    ));
    assert!(matches!(
        store.update_job(etl.id, &upgraded, JobWish::Running).await,
        Err(StoreError::NotFound { .. })
    ));
    store.create_job(session.id, "etl", params).await.unwrap();
}

on_both_databases!(
    installs_an_instance_with_its_first_revision_and_operation,
    refuses_a_second_instance_with_the_same_namespace_and_name,
    installs_an_uninstalled_name_again_linked_to_the_old_record,
    counts_instances_per_app_without_the_uninstalled,
    records_how_an_operation_ends,
    says_not_found_for_unknown_ids,
    keeps_data_across_restarts_and_migrates_once,
    finds_instances_by_name_and_revisions_by_number,
    pages_through_instances_with_filters,
    queues_an_operation_with_the_status_it_implies,
    adds_revisions_one_writer_at_a_time,
    keeps_session_jobs_by_name_while_they_exist,
);
