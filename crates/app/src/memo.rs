//! What a page reads of every call, kept briefly: loaded at most once per
//! [`Memo::FRESH_FOR`] and by one caller at a time (the others wait for it and share it), so
//! that a flood of requests is not a flood of reads.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Memo<T> {
    held: tokio::sync::Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            held: tokio::sync::Mutex::new(None),
        }
    }
}

impl<T> Memo<T> {
    /// How long a load is reused: what the pages show may be this old.
    pub const FRESH_FOR: Duration = Duration::from_secs(15);

    /// The value loaded less than [`Self::FRESH_FOR`] ago, or `load`'s.
    pub async fn get<E, F, Fut>(&self, load: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut held = self.held.lock().await;
        if let Some((at, value)) = held.as_ref()
            && at.elapsed() < Self::FRESH_FOR
        {
            return Ok(value.clone());
        }
        let value = Arc::new(load().await?);
        *held = Some((Instant::now(), value.clone()));
        Ok(value)
    }

    /// Makes the next [`Self::get`] load again.
    pub async fn expire(&self) {
        *self.held.lock().await = None;
    }
}
