//! A value recomputed at most once per time-to-live.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One shared value that goes stale after `ttl`, or at once when cleared.
///
/// The catalog's installed counts are read on every catalog request and
/// change only on installs and uninstalls: this replica clears them when it
/// writes, and the time-to-live bounds how long another replica's writes take
/// to show.
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

    /// Forgets the value: the next read recomputes it.
    pub(super) fn clear(&self) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = None;
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
        cache.clear();
        assert!(cache.fresh().is_none(), "gone once cleared");
        cache.store(8);
        assert_eq!(cache.fresh().as_deref(), Some(&8));
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.fresh().is_none(), "stale after the time-to-live");
    }
}
