//! Sign-in attempts counted per key in fixed windows, in the database, so that every node
//! sees the same counts and a count is never raced: each attempt is one atomic upsert that
//! returns the count it made. Windows that are over are purged one by one, never the whole
//! table at once.

use jiff::SignedDuration;

use crate::{Result, Store};

impl Store {
    /// Counts one attempt under `key` and returns the count of the current window (of
    /// length `window`) including it. Forty attempts at once get the counts 1 to 40.
    pub async fn count_attempt(&self, key: &str, window: SignedDuration) -> Result<i64> {
        let now = crate::now_us();
        let window_start = now - window.as_micros() as i64;
        let count: i64 = sqlx::query_scalar(
            "INSERT INTO sign_in_attempts (key, window_start_us, count) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             count = CASE WHEN sign_in_attempts.window_start_us <= $3 THEN 1 ELSE sign_in_attempts.count + 1 END, \
             window_start_us = CASE WHEN sign_in_attempts.window_start_us <= $3 THEN $2 ELSE sign_in_attempts.window_start_us END \
             RETURNING count",
        )
        .bind(key)
        .bind(now)
        .bind(window_start)
        .fetch_one(self.pool())
        .await?;
        Ok(count)
    }

    /// The attempts counted under `key` in its current window.
    pub async fn attempts(&self, key: &str, window: SignedDuration) -> Result<i64> {
        let window_start = crate::now_us() - window.as_micros() as i64;
        let count: Option<i64> = sqlx::query_scalar(
            "SELECT count FROM sign_in_attempts WHERE key = $1 AND window_start_us > $2",
        )
        .bind(key)
        .bind(window_start)
        .fetch_optional(self.pool())
        .await?;
        Ok(count.unwrap_or(0))
    }

    /// Forgets the attempts under `key` (a successful sign-in clears its own pair).
    pub async fn clear_attempts(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_attempts WHERE key = $1")
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes the keys whose window is over; returns how many went.
    pub async fn purge_attempts(&self, window: SignedDuration) -> Result<u64> {
        let window_start = crate::now_us() - window.as_micros() as i64;
        let done = sqlx::query("DELETE FROM sign_in_attempts WHERE window_start_us <= $1")
            .bind(window_start)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
