//! Who gets in when there is more than the sequencer can take: limits on submissions in
//! progress per entity and per network address, and a queue that turns new submissions
//! away once its oldest one has waited too long. Everything refused here is refused at
//! once, with nothing stored, so that under ten times the sustainable load the server
//! answers quickly instead of queueing without bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Submissions of one entity in the queue or being committed. Each entity needs one
/// application; the limit leaves room for retries and keeps any one entity from taking
/// more than its share of the queue.
pub const MAX_IN_FLIGHT_PER_ENTITY: usize = 16;

/// Submissions from one network address in progress at once. Generous on purpose: the
/// bodies of a region often reach the internet through one regional network (Lepida, in
/// Emilia-Romagna), so one address may stand for hundreds of them. It stops one client
/// from taking the whole queue, not a region.
pub const MAX_IN_FLIGHT_PER_ADDRESS: usize = 512;

/// How long the oldest queued submission may have waited before new ones are turned away
/// (503 with Retry-After). What is admitted is then answered within about this much plus
/// one commit; the bounded queue alone would let the wait grow to its length ÷ throughput.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_millis(50);

/// Counts of requests in progress by key (an entity's code, an address), each at most
/// `limit`.
pub(crate) struct InFlight {
    limit: usize,
    counts: Mutex<HashMap<String, usize>>,
}

/// A place held until dropped, when the request has its answer.
pub struct Slot {
    in_flight: Arc<InFlight>,
    key: String,
}

impl InFlight {
    pub(crate) fn new(limit: usize) -> Arc<InFlight> {
        Arc::new(InFlight {
            limit,
            counts: Mutex::default(),
        })
    }

    pub(crate) fn take(self: &Arc<Self>, key: &str) -> Option<Slot> {
        let mut map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(key.to_string()).or_default();
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            in_flight: self.clone(),
            key: key.to_string(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self
            .in_flight
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// How far behind the sequencer is: the wait of the oldest submission of the batch it
/// started last (zero when it found the queue empty), or, while a batch is taking long
/// (the database stalled), how long that batch has been running.
pub(crate) struct Pressure {
    epoch: Instant,
    queue_delay_us: AtomicU64,
    /// Microseconds after `epoch` at which the running batch started; 0 when idle.
    batch_started_us: AtomicU64,
}

impl Default for Pressure {
    fn default() -> Pressure {
        Pressure {
            epoch: Instant::now(),
            queue_delay_us: AtomicU64::new(0),
            batch_started_us: AtomicU64::new(0),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Pressure {
    /// A batch starts; its oldest submission waited `delay`.
    pub(crate) fn batch_started(&self, delay: Duration) {
        self.queue_delay_us.store(micros(delay), Ordering::Relaxed);
        let since_epoch = micros(self.epoch.elapsed()).max(1);
        self.batch_started_us.store(since_epoch, Ordering::Relaxed);
    }

    pub(crate) fn batch_ended(&self) {
        self.batch_started_us.store(0, Ordering::Relaxed);
    }

    /// The sequencer found nothing waiting.
    pub(crate) fn idle(&self) {
        self.queue_delay_us.store(0, Ordering::Relaxed);
    }

    pub(crate) fn queue_delay(&self) -> Duration {
        let waited = self.queue_delay_us.load(Ordering::Relaxed);
        let started = self.batch_started_us.load(Ordering::Relaxed);
        let running = if started == 0 {
            0
        } else {
            micros(self.epoch.elapsed()).saturating_sub(started)
        };
        Duration::from_micros(waited.max(running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_limited_per_key_and_given_back_on_drop() {
        let in_flight = InFlight::new(2);
        let a1 = in_flight.take("a").expect("first");
        let _a2 = in_flight.take("a").expect("second");
        assert!(in_flight.take("a").is_none(), "third over the limit");
        assert!(in_flight.take("b").is_some(), "another key is not affected");
        drop(a1);
        assert!(in_flight.take("a").is_some(), "a slot came back");
    }

    #[test]
    fn pressure_is_the_last_wait_or_the_running_batch() {
        let p = Pressure::default();
        assert_eq!(p.queue_delay(), Duration::ZERO);
        p.batch_started(Duration::from_secs(70));
        assert!(p.queue_delay() >= Duration::from_secs(70));
        p.batch_ended();
        assert_eq!(p.queue_delay(), Duration::from_secs(70));
        p.idle();
        assert_eq!(p.queue_delay(), Duration::ZERO);
        p.batch_started(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            p.queue_delay() >= Duration::from_millis(20),
            "a batch still running counts"
        );
    }
}
