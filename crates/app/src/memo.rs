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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Many callers at once share one load, the next ones reuse it while it is fresh, it is
    /// loaded again once stale, and a failed load is not kept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_load_serves_every_caller_while_fresh() {
        let memo = Arc::new(Memo::<usize>::default());
        let loads = Arc::new(AtomicUsize::new(0));
        let load = |loads: Arc<AtomicUsize>| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, ()>(loads.fetch_add(1, Ordering::SeqCst) + 1)
        };
        let callers: Vec<_> = (0..16)
            .map(|_| {
                let (memo, loads) = (memo.clone(), loads.clone());
                tokio::spawn(async move { memo.get(|| load(loads)).await.unwrap() })
            })
            .collect();
        let mut got = Vec::new();
        for c in callers {
            got.push(c.await.unwrap());
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1, "one load for all");
        assert!(got.iter().all(|v| Arc::ptr_eq(v, &got[0])));
        let fresh = memo.get(|| load(loads.clone())).await.unwrap();
        assert!(Arc::ptr_eq(&fresh, &got[0]), "fresh: not loaded again");
        memo.expire().await;
        assert_eq!(
            memo.get(|| async { Err::<usize, _>("down") }).await,
            Err("down")
        );
        let again = memo.get(|| load(loads.clone())).await.unwrap();
        assert_eq!(
            (*again, loads.load(Ordering::SeqCst)),
            (2, 2),
            "stale: loaded again"
        );
    }
}
