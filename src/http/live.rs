//! Server-sent events of a page's live parts: something read again and
//! again, sent only when it changed.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

/// An SSE stream of `event` events: `read` is called every `every`, and its
/// text is sent whenever it differs from the last one sent. `None` (a read
/// that failed) sends nothing and is tried again.
pub(super) fn changes<F, Fut>(
    event: &'static str,
    every: Duration,
    read: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Option<String>> + Send,
{
    let stream = futures::stream::unfold((read, None::<String>), move |(read, last)| async move {
        loop {
            if let Some(current) = read().await
                && last.as_deref() != Some(current.as_str())
            {
                let sent = Event::default().event(event).data(current.clone());
                return Some((Ok(sent), (read, Some(current))));
            }
            tokio::time::sleep(every).await;
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
