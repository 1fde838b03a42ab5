//! A value recomputed at most once per time-to-live.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One shared value that goes stale after `ttl`.
///
/// The catalog's installed counts are read on every catalog request and
/// change only on installs and uninstalls: the time-to-live bounds how long a
/// change takes to show on the catalog.
#[derive(Debug)]
pub(super) struct Cached<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> Cached<T> {
    /// An empty cache whose values live for `ttl`.
    pub(super) fn new(ttl: Duration) -> Self {
        Cached {
            ttl,
            slot: Mutex::new(None),
        }
    }

    /// The value, if one was stored less than `ttl` ago and not invalidated.
    pub(super) fn fresh(&self) -> Option<Arc<T>> {
        let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref()
            .filter(|(stored, _)| stored.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }

    /// Stores a freshly computed value and returns it.
    pub(super) fn store(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_after_their_time_to_live() {
        let cache = Cached::new(Duration::from_millis(30));
        assert!(cache.fresh().is_none());
        cache.store(7);
        assert_eq!(cache.fresh().as_deref(), Some(&7));
        cache.store(8);
        assert_eq!(cache.fresh().as_deref(), Some(&8));
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.fresh().is_none(), "stale after the time-to-live");
    }
}
