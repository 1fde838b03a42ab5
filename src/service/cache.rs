//! Short-lived caches of what pages read: a busy page costs the database (and
//! the API server, for events) one read per second, not one per request.
//!
//! A replica clears them whenever it writes, so its own users see their
//! changes at once; the one-second time-to-live bounds how long another
//! replica's writes take to show. Concurrent misses of one key share one read
//! (moka's `try_get_with`), so an expiry under load is one read, not a stampede.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use uuid::Uuid;

use super::{InstanceView, InstancesView, ServiceError};
use crate::store::InstanceFilter;

/// How long a cached view is served.
const TIME_TO_LIVE: Duration = Duration::from_secs(1);

/// Most instance pages and list pages kept at once.
const CAPACITY: u64 = 10_000;

/// The views pages read most.
#[derive(Debug)]
pub(super) struct ViewCaches {
    /// Installed instances per app, for the catalog.
    pub(super) counts: Cache<(), Arc<HashMap<String, i64>>>,
    /// Instance pages, by id.
    pub(super) instances: Cache<Uuid, Arc<InstanceView>>,
    /// List pages, by filter and page number.
    pub(super) lists: Cache<(InstanceFilter, i64), Arc<InstancesView>>,
}

impl ViewCaches {
    pub(super) fn new() -> Self {
        fn cache<K, V>() -> Cache<K, V>
        where
            K: Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TIME_TO_LIVE)
                .build()
        }
        ViewCaches {
            counts: cache(),
            instances: cache(),
            lists: cache(),
        }
    }

    /// Forgets every view: called after each write.
    pub(super) fn clear(&self) {
        self.counts.invalidate_all();
        self.instances.invalidate_all();
        self.lists.invalidate_all();
    }
}

/// The value of `key`: cached, or read by `read` (once, however many ask at once).
pub(super) async fn cached<K, V, F>(
    cache: &Cache<K, Arc<V>>,
    key: K,
    read: impl Fn() -> F,
) -> Result<Arc<V>, ServiceError>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
    F: Future<Output = Result<V, ServiceError>>,
{
    match cache
        .try_get_with(key, async { read().await.map(Arc::new) })
        .await
    {
        Ok(value) => Ok(value),
        // The shared error sits behind an Arc: read again for a typed one.
        Err(_) => read().await.map(Arc::new),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn one_read_serves_every_request_until_cleared_or_expired() {
        let cache: Cache<u8, Arc<usize>> = Cache::builder()
            .time_to_live(Duration::from_millis(50))
            .build();
        let reads = AtomicUsize::new(0);
        let read = || async { Ok::<_, ServiceError>(reads.fetch_add(1, Ordering::SeqCst)) };
        let all = futures::future::join_all((0..32).map(|_| cached(&cache, 1, read))).await;
        assert!(all.iter().all(|value| **value.as_ref().unwrap() == 0));
        assert_eq!(
            reads.load(Ordering::SeqCst),
            1,
            "one read for 32 concurrent misses"
        );
        cache.invalidate_all();
        assert_eq!(
            *cached(&cache, 1, read).await.unwrap(),
            1,
            "read again once cleared"
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            *cached(&cache, 1, read).await.unwrap(),
            2,
            "read again once expired"
        );
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_keep_their_type() {
        let cache: Cache<u8, Arc<u8>> = Cache::builder().build();
        let missing = || async { Err::<u8, _>(ServiceError::JobNotFound("etl".into())) };
        assert!(matches!(
            cached(&cache, 1, missing).await,
            Err(ServiceError::JobNotFound(name)) if name == "etl"
        ));
        assert_eq!(cache.entry_count(), 0);
    }
}
