//! The store: instances, revisions and operations in SQLite or Postgres.
//!
//! One set of migrations and one set of queries serve both databases through
//! sqlx's `Any` driver: columns are TEXT and BIGINT only, placeholders `$N`.

mod audit;
mod jobs;
mod operations;
mod records;
mod rows;
mod users;

/// The columns of `instances`, in the order [`instance_from_row`] reads them.
/// Macros rather than consts so that `concat!` keeps every query static text.
macro_rules! instance_columns {
    () => {
        "id, app, name, namespace, version, status, params, current_revision, created_at, updated_at, previous_id"
    };
}

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Connection, Row};
use thiserror::Error;
use uuid::Uuid;

use operations::insert_operation;
use rows::{instance_from_row, now, revision_from_row, timestamp};

pub use audit::{AuditEntry, AuditFilter, NewAuditEntry};
pub use jobs::{FlinkJob, JobWish};
pub use records::{
    Instance, InstanceFilter, InstanceStatus, NewInstance, Operation, OperationKind,
    OperationState, Revision, RevisionChange,
};
pub use users::{ApiToken, Role, User};

/// Errors of the store layer.
#[derive(Debug, Error)]
pub enum StoreError {
    /// An instance with this namespace and name exists already.
    #[error("An instance named {name} exists already in namespace {namespace}")]
    NameTaken {
        /// The namespace asked for.
        namespace: String,
        /// The name asked for.
        name: String,
    },
    /// A job of this name exists already on the session cluster.
    #[error("A job named {name} exists already on this session cluster")]
    JobNameTaken {
        /// The name asked for.
        name: String,
    },
    /// A user of this name exists already.
    #[error("A user named {name} exists already")]
    UserNameTaken {
        /// The name asked for.
        name: String,
    },
    /// No existing job has this name.
    #[error("no job named {name}")]
    JobNotFound {
        /// The name looked for.
        name: String,
    },
    /// The instance changed since the caller read it.
    #[error("instance {id} was changed by someone else since it was read")]
    Changed {
        /// The instance.
        id: Uuid,
    },
    /// No row has this id.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id looked for.
        id: Uuid,
    },
    /// A stored value could not be read back (a bug or a hand-edited row).
    #[error("stored {column} is invalid: {value}")]
    Corrupt {
        /// The column read.
        column: &'static str,
        /// What it held.
        value: String,
    },
    /// The database refused or could not be reached.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Migrating the schema failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether the database itself was unreachable (rather than the request wrong).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Protocol(_),
            ) => true,
            // Postgres classes 08 (connection exception) and 57 (operator
            // intervention: shutting down, starting up): the server, not the query.
            StoreError::Database(sqlx::Error::Database(error)) => error
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
            _ => false,
        }
    }
}

/// A pool of connections to the portal's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
}

impl Store {
    /// Opens the database at `url` (`sqlite://FILE`, created if missing, or
    /// `postgres://...`) and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let url = with_sqlite_create_mode(url);
        // One direct connection first: its error names the real cause (refused,
        // bad password, unwritable file) where a pool would only time out.
        let mut probe = sqlx::AnyConnection::connect(&url).await?;
        if url.starts_with("sqlite:") {
            // Readers no longer block the writer; persisted in the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&mut probe)
                .await?;
        }
        probe.close().await?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&url)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        relax_name_uniqueness(&pool, url.starts_with("sqlite:")).await?;
        Ok(Store { pool })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Writes a new instance, its revision 1 and its pending install operation
    /// in one transaction: all three or none. An uninstalled instance of the
    /// same name and namespace becomes its `previous_id` (the newest one);
    /// one that is not uninstalled refuses it with [`StoreError::NameTaken`].
    pub async fn create_instance(
        &self,
        new: NewInstance,
    ) -> Result<(Instance, Revision, Operation), StoreError> {
        let now = now();
        let previous_id = match self.instance_named(&new.namespace, &new.name).await? {
            Some(old) if old.status == InstanceStatus::Uninstalled => Some(old.id),
            _ => None,
        };
        let instance = Instance {
            previous_id,
            id: new.id,
            app: new.app,
            name: new.name,
            namespace: new.namespace,
            version: new.version,
            status: InstanceStatus::Installing,
            params: new.params,
            current_revision: 1,
            created_at: now,
            updated_at: now,
        };
        let revision = Revision {
            instance_id: instance.id,
            number: 1,
            params: instance.params.clone(),
            objects: new.objects,
            actor: new.actor.clone(),
            created_at: now,
        };
        let operation = Operation {
            id: Uuid::new_v4(),
            instance_id: instance.id,
            kind: OperationKind::Install,
            state: OperationState::Pending,
            revision: Some(1),
            error: None,
            progress: None,
            deletes_savepoints: None,
            actor: new.actor,
            created_at: now,
            started_at: None,
            finished_at: None,
        };

        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO instances (id, app, name, namespace, version, status, params, \
             current_revision, created_at, updated_at, previous_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(instance.id.to_string())
        .bind(&instance.app)
        .bind(&instance.name)
        .bind(&instance.namespace)
        .bind(&instance.version)
        .bind(instance.status.as_str())
        .bind(instance.params.to_string())
        .bind(instance.current_revision)
        .bind(timestamp(now))
        .bind(timestamp(now))
        .bind(instance.previous_id.map(|id| id.to_string()))
        .execute(&mut *tx)
        .await
        .map_err(|error| {
            unique_or(error, || StoreError::NameTaken {
                namespace: instance.namespace.clone(),
                name: instance.name.clone(),
            })
        })?;
        insert_revision(&mut tx, &revision).await?;
        insert_operation(&mut tx, &operation).await?;
        tx.commit().await?;
        Ok((instance, revision, operation))
    }

    /// Writes revision `expected_revision + 1` (parameters and objects), makes
    /// it current, and queues the operation that applies it (update or
    /// rollback), in one transaction. Refused with `Changed` when the current
    /// revision is no longer `expected_revision`: someone updated it meanwhile.
    pub async fn add_revision(
        &self,
        instance_id: Uuid,
        expected_revision: i64,
        change: RevisionChange,
    ) -> Result<(Revision, Operation), StoreError> {
        let kind = change.kind;
        self.write_revision(
            instance_id,
            expected_revision,
            change,
            (kind, OperationState::Pending),
            Some(InstanceStatus::Updating),
        )
        .await
    }

    /// Writes revision `expected_revision + 1` of `change` with an operation
    /// of `kind` in `state` (finished now when it is not pending), and makes
    /// it current (setting `status` if given) in one transaction, refused
    /// with `Changed` when the current revision is no longer `expected_revision`.
    pub(super) async fn write_revision(
        &self,
        instance_id: Uuid,
        expected_revision: i64,
        change: RevisionChange,
        (kind, state): (OperationKind, OperationState),
        status: Option<InstanceStatus>,
    ) -> Result<(Revision, Operation), StoreError> {
        let at = now();
        let revision = Revision {
            instance_id,
            number: expected_revision + 1,
            params: change.params,
            objects: change.objects,
            actor: change.actor.clone(),
            created_at: at,
        };
        let finished = (state != OperationState::Pending).then_some(at);
        let operation = Operation {
            id: Uuid::new_v4(),
            instance_id,
            kind,
            state,
            revision: Some(revision.number),
            error: None,
            progress: None,
            deletes_savepoints: None,
            actor: change.actor,
            created_at: at,
            started_at: finished,
            finished_at: finished,
        };
        let mut tx = self.pool.begin().await?;
        // The compare-and-set on current_revision serializes concurrent updates;
        // `status` stays as it is when none is given.
        let updated = sqlx::query(
            "UPDATE instances SET current_revision = $1, params = $2, version = $3, \
             status = COALESCE($4, status), updated_at = $5 WHERE id = $6 AND current_revision = $7",
        )
        .bind(revision.number)
        .bind(revision.params.to_string())
        .bind(&change.version)
        .bind(status.map(|status| status.as_str()))
        .bind(timestamp(at))
        .bind(instance_id.to_string())
        .bind(expected_revision)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Changed { id: instance_id });
        }
        insert_revision(&mut tx, &revision).await?;
        insert_operation(&mut tx, &operation).await?;
        tx.commit().await?;
        Ok((revision, operation))
    }

    /// The instance with this id.
    pub async fn instance(&self, id: Uuid) -> Result<Instance, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            instance_columns!(),
            " FROM instances WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| instance_from_row(&row))
        .transpose()?
        .ok_or(StoreError::NotFound {
            what: "instance",
            id,
        })
    }

    /// The instance installed again under the name of uninstalled instance
    /// `id`, if any.
    pub async fn reinstalled_as(&self, id: Uuid) -> Result<Option<Instance>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            instance_columns!(),
            " FROM instances WHERE previous_id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| instance_from_row(&row))
        .transpose()
    }

    /// The instance named `name` in `namespace`, if there is one: the one
    /// not uninstalled, else the newest uninstalled one.
    pub async fn instance_named(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Instance>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            instance_columns!(),
            " FROM instances WHERE namespace = $1 AND name = $2 \
             ORDER BY CASE WHEN status = 'Uninstalled' THEN 1 ELSE 0 END, created_at DESC LIMIT 1"
        ))
        .bind(namespace)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| instance_from_row(&row))
        .transpose()
    }

    /// The revision `number` of an instance.
    pub async fn revision(&self, instance_id: Uuid, number: i64) -> Result<Revision, StoreError> {
        sqlx::query(
            "SELECT instance_id, number, params, objects, actor, created_at FROM revisions \
             WHERE instance_id = $1 AND number = $2",
        )
        .bind(instance_id.to_string())
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| revision_from_row(&row))
        .transpose()?
        .ok_or(StoreError::NotFound {
            what: "revision",
            id: instance_id,
        })
    }

    /// Instances of `app` (all apps when `None`), by namespace and name.
    pub async fn instances(&self, app: Option<&str>) -> Result<Vec<Instance>, StoreError> {
        let rows = match app {
            Some(app) => {
                sqlx::query(concat!(
                    "SELECT ",
                    instance_columns!(),
                    " FROM instances WHERE app = $1 ORDER BY namespace, name"
                ))
                .bind(app)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    instance_columns!(),
                    " FROM instances ORDER BY namespace, name"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(instance_from_row).collect()
    }

    /// One page of instances matching the filter (empty strings match all),
    /// by namespace and name, and how many match in all.
    pub async fn instance_page(
        &self,
        filter: &InstanceFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Instance>, i64), StoreError> {
        // An empty filter field matches every row: one static query for all filters.
        macro_rules! matches_filter {
            () => {
                "($1 = '' OR app = $1) AND ($2 = '' OR namespace = $2) AND ($3 = '' OR status = $3)"
            };
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            instance_columns!(),
            " FROM instances WHERE ",
            matches_filter!(),
            " ORDER BY namespace, name LIMIT $4 OFFSET $5"
        ))
        .bind(&filter.app)
        .bind(&filter.namespace)
        .bind(&filter.status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query(concat!(
            "SELECT COUNT(*) AS n FROM instances WHERE ",
            matches_filter!()
        ))
        .bind(&filter.app)
        .bind(&filter.namespace)
        .bind(&filter.status)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        Ok((
            rows.iter()
                .map(instance_from_row)
                .collect::<Result<_, _>>()?,
            total,
        ))
    }

    /// How many instances each app has that are not uninstalled, by app name.
    pub async fn instance_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows =
            sqlx::query("SELECT app, COUNT(*) AS n FROM instances WHERE status <> $1 GROUP BY app")
                .bind(InstanceStatus::Uninstalled.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("app")?, row.try_get("n")?)))
            .collect()
    }

    /// The revisions of an instance, newest first.
    pub async fn revisions(&self, instance_id: Uuid) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(
            "SELECT instance_id, number, params, objects, actor, created_at FROM revisions \
             WHERE instance_id = $1 ORDER BY number DESC",
        )
        .bind(instance_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(revision_from_row).collect()
    }

    /// Records the status the cluster reports for an instance.
    pub async fn set_status(&self, id: Uuid, status: InstanceStatus) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE instances SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(timestamp(now()))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), "instance", id)
    }
}

async fn insert_revision(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    revision: &Revision,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO revisions (instance_id, number, params, objects, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(revision.instance_id.to_string())
    .bind(revision.number)
    .bind(revision.params.to_string())
    .bind(revision.objects.to_string())
    .bind(&revision.actor)
    .bind(timestamp(revision.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Drops the `UNIQUE (namespace, name)` of the first schema, so that an
/// uninstalled instance's name can be installed again (the partial index
/// `instances_live_name` holds names of the others). Postgres drops the
/// constraint; SQLite cannot, so the table is rebuilt without it with
/// foreign keys off (its documented way to change a table's constraints:
/// `DROP TABLE` would otherwise delete the revisions and operations too).
async fn relax_name_uniqueness(pool: &AnyPool, sqlite: bool) -> Result<(), StoreError> {
    if !sqlite {
        sqlx::query("ALTER TABLE instances DROP CONSTRAINT IF EXISTS instances_namespace_name_key")
            .execute(pool)
            .await?;
        return Ok(());
    }
    let schema: Option<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'instances'",
    )
    .fetch_optional(pool)
    .await?;
    if !schema.is_some_and(|sql| sql.contains("UNIQUE (namespace, name)")) {
        return Ok(());
    }
    let mut connection = pool.acquire().await?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *connection)
        .await?;
    let rebuilt = async {
        let mut tx = connection.begin().await?;
        for statement in [
            "CREATE TABLE instances_rebuilt (id TEXT PRIMARY KEY, app TEXT NOT NULL, \
             name TEXT NOT NULL, namespace TEXT NOT NULL, version TEXT NOT NULL, \
             status TEXT NOT NULL, params TEXT NOT NULL, current_revision BIGINT NOT NULL, \
             created_at TEXT NOT NULL, updated_at TEXT NOT NULL, previous_id TEXT)",
            concat!(
                "INSERT INTO instances_rebuilt (",
                instance_columns!(),
                ") SELECT ",
                instance_columns!(),
                " FROM instances"
            ),
            "DROP TABLE instances",
            "ALTER TABLE instances_rebuilt RENAME TO instances",
            "CREATE INDEX instances_by_app ON instances (app)",
            "CREATE INDEX instances_by_app_status_namespace ON instances (app, status, namespace)",
            "CREATE UNIQUE INDEX instances_live_name ON instances (namespace, name) \
             WHERE status <> 'Uninstalled'",
        ] {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await
    }
    .await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *connection)
        .await?;
    Ok(rebuilt?)
}

/// A write's error: `taken()` when it broke a unique constraint (a name in
/// use), the database's error otherwise.
fn unique_or(error: sqlx::Error, taken: impl FnOnce() -> StoreError) -> StoreError {
    match error {
        sqlx::Error::Database(db) if db.is_unique_violation() => taken(),
        other => StoreError::Database(other),
    }
}

fn found(rows_affected: u64, what: &'static str, id: Uuid) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound { what, id })
    } else {
        Ok(())
    }
}

/// `sqlite://` URLs open read-write and create the file when it is missing.
fn with_sqlite_create_mode(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}mode=rwc")
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_missing_files() {
        assert_eq!(
            with_sqlite_create_mode("sqlite://dataport.db"),
            "sqlite://dataport.db?mode=rwc"
        );
        assert_eq!(
            with_sqlite_create_mode("sqlite://x.db?mode=ro"),
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(
            with_sqlite_create_mode("postgres://h/db"),
            "postgres://h/db"
        );
    }
}
