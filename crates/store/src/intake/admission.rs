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

/// How long the oldest queued submission may have waited before new ones are turned away
/// (503 with Retry-After). What is admitted is then answered within about this much plus
/// one commit; the bounded queue alone would let the wait grow to its length ÷ throughput.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_millis(50);

/// A standing queue, as CoDel calls it: when even the shortest wait of every batch started
/// over one such window exceeded a fifth of [`MAX_QUEUE_DELAY`] (10 ms by default), the
/// queue never drained in that time, which only a load above what the sequencer commits
/// does; new submissions are turned away until it drains. A single slow batch under normal
/// load (a checkpoint, a busy core) raises one wait, not the window's minimum: refusing on
/// any wait over 10 ms had 50-100 of 20,000 submissions at 64 clients turned away, and their
/// resends halved the rate.
pub const STANDING_QUEUE_WINDOW: Duration = Duration::from_millis(100);

/// Counts of requests in progress by key (an entity's code here; the HTTP layer counts
/// addresses, sessions and streams with it), each at most `limit`.
pub struct InFlight {
    limit: usize,
    counts: Mutex<HashMap<String, usize>>,
}

/// A place held until dropped, when the request has its answer.
pub struct Slot {
    in_flight: Arc<InFlight>,
    key: String,
}

impl InFlight {
    pub fn new(limit: usize) -> Arc<InFlight> {
        Arc::new(InFlight {
            limit,
            counts: Mutex::default(),
        })
    }

    /// A place for `key`, or `None` when `key` has its limit in progress.
    pub fn take(self: &Arc<Self>, key: &str) -> Option<Slot> {
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
    /// Microseconds after `epoch` at which the last batch started.
    last_batch_us: AtomicU64,
    /// The shortest wait seen in the current window, and in the last complete one.
    window: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    started_us: u64,
    /// None until a wait is seen in this window.
    min_us: Option<u64>,
    /// The shortest wait of the last complete window.
    standing_us: u64,
}

impl Default for Pressure {
    fn default() -> Pressure {
        Pressure {
            epoch: Instant::now(),
            queue_delay_us: AtomicU64::new(0),
            batch_started_us: AtomicU64::new(0),
            last_batch_us: AtomicU64::new(0),
            window: Mutex::default(),
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
        self.last_batch_us.store(since_epoch, Ordering::Relaxed);
        self.observe(since_epoch, micros(delay));
    }

    /// A batch started within the last `window`.
    pub(crate) fn busy_within(&self, window: Duration) -> bool {
        let last = self.last_batch_us.load(Ordering::Relaxed);
        last != 0 && micros(self.epoch.elapsed()).saturating_sub(last) < micros(window)
    }

    /// Folds one wait into the window; a window that has run its length hands its minimum
    /// over as the standing delay and starts again from this wait.
    fn observe(&self, now_us: u64, delay_us: u64) {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if now_us.saturating_sub(w.started_us) >= micros(STANDING_QUEUE_WINDOW) {
            *w = Window {
                started_us: now_us,
                min_us: Some(delay_us),
                standing_us: w.min_us.unwrap_or(0),
            };
        } else {
            w.min_us = Some(w.min_us.map_or(delay_us, |m| m.min(delay_us)));
        }
    }

    /// The shortest wait of every batch started over the last complete window. A window
    /// that has run its length counts as complete even before the next batch closes it: a
    /// sequencer that found its queue empty (a wait of zero) lets submissions in again
    /// within one window, whether or not another batch comes.
    pub(crate) fn standing_delay(&self) -> Duration {
        self.standing_delay_at(micros(self.epoch.elapsed()))
    }

    fn standing_delay_at(&self, now_us: u64) -> Duration {
        let w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let us = if now_us.saturating_sub(w.started_us) >= micros(STANDING_QUEUE_WINDOW) {
            w.min_us.unwrap_or(0)
        } else {
            w.standing_us
        };
        Duration::from_micros(us)
    }

    pub(crate) fn batch_ended(&self) {
        self.batch_started_us.store(0, Ordering::Relaxed);
    }

    /// The sequencer found nothing waiting.
    pub(crate) fn idle(&self) {
        self.queue_delay_us.store(0, Ordering::Relaxed);
        let now = micros(self.epoch.elapsed()).max(1);
        self.observe(now, 0);
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

    #[test]
    fn busy_for_a_while_after_a_batch_only() {
        let p = Pressure::default();
        assert!(!p.busy_within(Duration::from_secs(3600)), "no batch yet");
        p.batch_started(Duration::ZERO);
        p.batch_ended();
        assert!(p.busy_within(Duration::from_secs(3600)));
        std::thread::sleep(Duration::from_millis(5));
        assert!(!p.busy_within(Duration::from_millis(1)));
    }

    #[test]
    fn a_standing_queue_is_the_shortest_wait_of_a_whole_window() {
        let p = Pressure::default();
        let ms = |n: u64| n * 1000;
        let standing = |at: u64| p.standing_delay_at(ms(at)).as_millis();
        // The first window: long waits and one short one.
        p.observe(ms(1), ms(30));
        p.observe(ms(40), ms(2));
        p.observe(ms(90), ms(45));
        assert_eq!(standing(95), 0, "no complete window yet");
        p.observe(ms(120), ms(30));
        assert_eq!(standing(125), 2, "one short wait: no standing queue");
        // A window whose every wait was long: the queue never drained.
        p.observe(ms(150), ms(25));
        p.observe(ms(200), ms(12));
        assert_eq!(standing(210), 2, "the window is still running");
        p.observe(ms(230), ms(1));
        assert_eq!(standing(235), 12);
        // The sequencer finds its queue empty (a wait of zero) and no batch follows: once
        // the window has run its length the queue counts as drained.
        p.observe(ms(260), 0);
        assert_eq!(standing(300), 12);
        assert_eq!(standing(331), 0);
        // A first window that sees nothing is not a standing queue either.
        let fresh = Pressure::default();
        assert_eq!(fresh.standing_delay_at(ms(5_000)), Duration::ZERO);
    }
}
