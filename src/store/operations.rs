//! Operations: stored before they act, taken up and ended by the worker.

use uuid::Uuid;

use super::rows::{now, operation_from_row, timestamp};
use super::{
    InstanceStatus, Operation, OperationKind, OperationState, Revision, RevisionChange, Store,
    StoreError, found,
};

/// The columns of `operations`, as `operation_from_row` reads them.
macro_rules! operation_columns {
    () => {
        "id, instance_id, kind, state, revision, error, progress, actor, created_at, started_at, finished_at, deletes_savepoints"
    };
}

impl Store {
    /// The operations on an instance, newest first.
    pub async fn operations(&self, instance_id: Uuid) -> Result<Vec<Operation>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            operation_columns!(),
            " FROM operations WHERE instance_id = $1 ORDER BY created_at DESC"
        ))
        .bind(instance_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(operation_from_row).collect()
    }

    /// Operations still pending or running, oldest first: what a worker resumes.
    pub async fn unfinished_operations(&self) -> Result<Vec<Operation>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            operation_columns!(),
            " FROM operations WHERE state IN ($1, $2) ORDER BY created_at"
        ))
        .bind(OperationState::Pending.as_str())
        .bind(OperationState::Running.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(operation_from_row).collect()
    }

    /// Queues an operation on an instance and moves the instance to `status`,
    /// in one transaction: the operation is stored before it acts.
    pub async fn queue_operation(
        &self,
        instance_id: Uuid,
        kind: OperationKind,
        status: InstanceStatus,
        actor: &str,
    ) -> Result<Operation, StoreError> {
        self.queue(instance_id, kind, status, actor, None).await
    }

    /// Queues the uninstall of instance `instance_id` (status Uninstalling),
    /// which deletes the savepoint directory `deletes_savepoints` too when given.
    pub async fn queue_uninstall(
        &self,
        instance_id: Uuid,
        actor: &str,
        deletes_savepoints: Option<String>,
    ) -> Result<Operation, StoreError> {
        self.queue(
            instance_id,
            OperationKind::Uninstall,
            InstanceStatus::Uninstalling,
            actor,
            deletes_savepoints,
        )
        .await
    }

    async fn queue(
        &self,
        instance_id: Uuid,
        kind: OperationKind,
        status: InstanceStatus,
        actor: &str,
        deletes_savepoints: Option<String>,
    ) -> Result<Operation, StoreError> {
        let operation = Operation {
            id: Uuid::new_v4(),
            instance_id,
            kind,
            state: OperationState::Pending,
            revision: None,
            error: None,
            progress: None,
            deletes_savepoints,
            actor: actor.to_owned(),
            created_at: now(),
            started_at: None,
            finished_at: None,
        };
        let mut tx = self.pool.begin().await?;
        let updated =
            sqlx::query("UPDATE instances SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(timestamp(operation.created_at))
                .bind(instance_id.to_string())
                .execute(&mut *tx)
                .await?;
        found(updated.rows_affected(), "instance", instance_id)?;
        insert_operation(&mut tx, &operation).await?;
        tx.commit().await?;
        Ok(operation)
    }

    /// Records what a running operation is waiting for.
    pub async fn set_progress(&self, id: Uuid, progress: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE operations SET progress = $1 WHERE id = $2")
            .bind(progress)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), "operation", id)
    }

    /// Marks an operation running.
    pub async fn start_operation(&self, id: Uuid) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE operations SET state = $1, started_at = $2 WHERE id = $3")
            .bind(OperationState::Running.as_str())
            .bind(timestamp(now()))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), "operation", id)
    }

    /// Ends an operation: succeeded when `error` is `None`, else failed with it.
    pub async fn finish_operation(&self, id: Uuid, error: Option<&str>) -> Result<(), StoreError> {
        let state = match error {
            None => OperationState::Succeeded,
            Some(_) => OperationState::Failed,
        };
        let done = sqlx::query(
            "UPDATE operations SET state = $1, error = $2, finished_at = $3 WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(timestamp(now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        found(done.rows_affected(), "operation", id)
    }
}

impl Store {
    /// Records that an operation put instance `instance_id` back as it was:
    /// revision `expected_revision + 1` with `change` (an earlier revision's
    /// parameters and objects, already applied), and a finished rollback
    /// operation for it, in one transaction. The instance's status is left to
    /// the operation that restored it. `Changed` when the instance moved past
    /// `expected_revision` meanwhile.
    pub async fn record_restored_revision(
        &self,
        instance_id: Uuid,
        expected_revision: i64,
        change: RevisionChange,
    ) -> Result<(Revision, Operation), StoreError> {
        self.write_revision(
            instance_id,
            expected_revision,
            change,
            (OperationKind::Rollback, OperationState::Succeeded),
            None,
        )
        .await
    }
}

pub(super) async fn insert_operation(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    operation: &Operation,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO operations (id, instance_id, kind, state, revision, error, actor, \
         created_at, started_at, finished_at, deletes_savepoints) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(operation.id.to_string())
    .bind(operation.instance_id.to_string())
    .bind(operation.kind.as_str())
    .bind(operation.state.as_str())
    .bind(operation.revision)
    .bind(operation.error.as_deref())
    .bind(&operation.actor)
    .bind(timestamp(operation.created_at))
    .bind(operation.started_at.map(timestamp))
    .bind(operation.finished_at.map(timestamp))
    .bind(operation.deletes_savepoints.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
