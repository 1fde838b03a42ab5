//! Server-sent events of a page's live parts: something read again when it
//! may have changed, and sent only when it did.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

/// What a live part's handler answers: an SSE stream of its events.
pub(super) type LiveEvents = Sse<KeepAliveStream<BoxStream<'static, Result<Event, Infallible>>>>;

/// An SSE stream of `event` events: `read` is called every `every`, and its
/// text is sent whenever it differs from the last one sent. `None` (a read
/// that failed) sends nothing and is tried again.
pub(super) fn changes<F, Fut>(event: &'static str, every: Duration, read: F) -> LiveEvents
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Option<String>> + Send,
{
    sent_when_changed(event, ticks(every), read)
}

/// Like [`changes`], but `read` is called again as soon as `changed` yields
/// (the cluster's watches saw the instance's objects change), and at the
/// latest every `every` (for what ages by itself, such as a pod's age).
pub(super) fn changes_on<F, Fut>(
    event: &'static str,
    changed: BoxStream<'static, ()>,
    every: Duration,
    read: F,
) -> LiveEvents
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Option<String>> + Send,
{
    sent_when_changed(
        event,
        futures::stream::select(changed, ticks(every)).boxed(),
        read,
    )
}

/// A `()` every `every`, the first one after `every`.
fn ticks(every: Duration) -> BoxStream<'static, ()> {
    futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(every).await;
        Some(((), ()))
    })
    .boxed()
}

/// `read` at once and after each of `ticks`, sending its text as an
/// `event` event whenever it differs from the last one sent.
fn sent_when_changed<F, Fut>(
    event: &'static str,
    ticks: BoxStream<'static, ()>,
    read: F,
) -> LiveEvents
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Option<String>> + Send,
{
    let stream = futures::stream::unfold(
        (read, ticks, None::<String>, true),
        move |(read, mut ticks, last, first)| async move {
            if !first {
                ticks.next().await?;
            }
            loop {
                if let Some(current) = read().await
                    && last.as_deref() != Some(current.as_str())
                {
                    let sent = Event::default().event(event).data(current.clone());
                    return Some((Ok(sent), (read, ticks, Some(current), false)));
                }
                ticks.next().await?;
            }
        },
    );
    Sse::new(stream.boxed()).keep_alive(KeepAlive::default())
}

/// An SSE stream of what `stream` yields, as it comes (a followed log).
pub(super) fn stream_of(stream: impl Stream<Item = Event> + Send + 'static) -> LiveEvents {
    Sse::new(stream.map(Ok).boxed()).keep_alive(KeepAlive::default())
}
