//! Short-lived caches of what pages read: a busy page costs the database (and
//! the API server, for events) one read per second, not one per request.
//!
//! A replica clears them whenever it writes and whenever its watches see an
//! object change, so its own users see their changes and the cluster's at
//! once; another replica's writes show within about a second. A
//! miss is one read however many ask at once (moka's `try_get_with`); a value
//! older than a second is read again by the one request that finds it so,
//! while the others are served the value they had: an expiry under load costs
//! no one a wait but that request.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use moka::future::Cache;
use uuid::Uuid;

use super::{InstanceView, InstancesView, ServiceError};
use crate::cluster::prometheus::PrometheusAlert;
use crate::store::{Instance, InstanceFilter};

/// How long a view is served without reading it again.
const FRESH: Duration = Duration::from_secs(1);

/// How long an unread view is kept (after that, the next request waits for a read).
const KEPT: Duration = Duration::from_secs(30);

/// Most views of one kind kept at once.
const CAPACITY: u64 = 10_000;

/// A view and when it was read.
#[derive(Debug)]
struct Entry<V> {
    value: Arc<V>,
    read_at: Instant,
    /// Set by the request that reads it again.
    refreshing: AtomicBool,
}

impl<V> Entry<V> {
    fn new(value: Arc<V>) -> Arc<Self> {
        Arc::new(Entry {
            value,
            read_at: Instant::now(),
            refreshing: AtomicBool::new(false),
        })
    }
}

/// Views of one kind, by key.
pub(super) struct ViewCache<K, V> {
    entries: Cache<K, Arc<Entry<V>>>,
    fresh: Duration,
}

impl<K, V> ViewCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    fn new(fresh: Duration) -> Self {
        ViewCache {
            entries: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(KEPT.max(fresh))
                .build(),
            fresh,
        }
    }

    /// The view of `key`: as cached while fresh, else as `read` gives it.
    pub(super) async fn get_or_read<F>(
        &self,
        key: K,
        read: impl Fn() -> F,
    ) -> Result<Arc<V>, ServiceError>
    where
        F: Future<Output = Result<V, ServiceError>>,
    {
        if let Some(entry) = self.entries.get(&key).await {
            // Fresh, or another request is reading it again: serve it as it is.
            if entry.read_at.elapsed() < self.fresh || entry.refreshing.swap(true, Ordering::AcqRel)
            {
                return Ok(entry.value.clone());
            }
            return match read().await {
                Ok(value) => {
                    let value = Arc::new(value);
                    self.entries.insert(key, Entry::new(value.clone())).await;
                    Ok(value)
                }
                Err(error) => {
                    entry.refreshing.store(false, Ordering::Release);
                    Err(error)
                }
            };
        }
        let shared = self
            .entries
            .try_get_with(key, async { read().await.map(|v| Entry::new(Arc::new(v))) })
            .await;
        match shared {
            Ok(entry) => Ok(entry.value.clone()),
            // The shared error sits behind an Arc: read again for a typed one.
            Err(_) => read().await.map(Arc::new),
        }
    }

    /// Forgets every view of this kind.
    fn clear(&self) {
        self.entries.invalidate_all();
    }
}

impl<K, V> std::fmt::Debug for ViewCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewCache")
            .field("fresh", &self.fresh)
            .finish_non_exhaustive()
    }
}

/// The views pages read most.
#[derive(Debug)]
pub(super) struct ViewCaches {
    /// Installed instances per app, for the catalog.
    pub(super) counts: ViewCache<(), HashMap<String, i64>>,
    /// Instance pages, by id.
    pub(super) instances: ViewCache<Uuid, InstanceView>,
    /// List pages, by filter and page number.
    pub(super) lists: ViewCache<(InstanceFilter, i64), InstancesView>,
    /// Instance records, by id: what each request through a web interface
    /// proxy reads.
    pub(super) records: ViewCache<Uuid, Instance>,
    /// The alerts of each Prometheus instance, by its id, or why it gave
    /// none: read again after [`ALERTS_FRESH`], not on dataport's writes.
    pub(super) alerts: ViewCache<Uuid, Result<Vec<PrometheusAlert>, String>>,
}

/// How long a Prometheus's alerts are served without asking again: its
/// default rule evaluation interval (`global.evaluation_interval`, 15 s in
/// the configuration dataport renders), so nothing is missed that it knows.
const ALERTS_FRESH: Duration = Duration::from_secs(15);

impl ViewCaches {
    pub(super) fn new() -> Self {
        ViewCaches {
            counts: ViewCache::new(FRESH),
            instances: ViewCache::new(FRESH),
            lists: ViewCache::new(FRESH),
            records: ViewCache::new(FRESH),
            alerts: ViewCache::new(ALERTS_FRESH),
        }
    }

    /// Forgets every view: called after each write.
    pub(super) fn clear(&self) {
        self.counts.clear();
        self.instances.clear();
        self.lists.clear();
        self.records.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[tokio::test]
    async fn one_read_serves_everyone_and_a_stale_view_is_read_again_by_one_request() {
        let cache: ViewCache<u8, usize> = ViewCache::new(Duration::from_millis(50));
        let reads = AtomicUsize::new(0);
        let read = || async { Ok::<_, ServiceError>(reads.fetch_add(1, Ordering::SeqCst)) };
        let all = futures::future::join_all((0..32).map(|_| cache.get_or_read(1, read))).await;
        assert!(all.iter().all(|value| **value.as_ref().unwrap() == 0));
        assert_eq!(
            reads.load(Ordering::SeqCst),
            1,
            "one read for 32 concurrent misses"
        );

        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            *cache.get_or_read(1, read).await.unwrap(),
            1,
            "stale: read again"
        );
        assert_eq!(*cache.get_or_read(1, read).await.unwrap(), 1, "fresh again");

        cache.clear();
        assert_eq!(
            *cache.get_or_read(1, read).await.unwrap(),
            2,
            "read again once cleared"
        );
    }

    #[tokio::test]
    async fn while_one_request_reads_again_the_others_get_the_stale_view() {
        let cache: ViewCache<u8, &str> = ViewCache::new(Duration::from_millis(10));
        cache.get_or_read(1, || async { Ok("old") }).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok("new")
        };
        let (refreshed, meanwhile) = tokio::join!(cache.get_or_read(1, slow), async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            cache.get_or_read(1, slow).await
        });
        assert_eq!(*refreshed.unwrap(), "new");
        assert_eq!(
            *meanwhile.unwrap(),
            "old",
            "served at once, not after the read"
        );
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_keep_their_type() {
        let cache: ViewCache<u8, u8> = ViewCache::new(FRESH);
        let missing = || async { Err::<u8, _>(ServiceError::JobNotFound("etl".into())) };
        assert!(matches!(
            cache.get_or_read(1, missing).await,
            Err(ServiceError::JobNotFound(name)) if name == "etl"
        ));
        assert_eq!(cache.entries.entry_count(), 0);
    }
}
