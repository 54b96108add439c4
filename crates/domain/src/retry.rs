//! The intake's one rule for submissions that repeat an earlier one (docs/design.md, section 4,
//! rule 4): a retry returns the first receipt and creates nothing; a duplicate is refused.
//! It is applied wherever the earlier submissions are known: by the request before the
//! queue (from the database), by the sequencer under the lock (from its index), and by
//! the one-transaction baseline (from the database, under the lock).

/// The earlier application that used this submission's Idempotency-Key, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUse<R> {
    /// Same call and same content (canonical SHA-256) as this submission.
    pub same_call_and_content: bool,
    pub earlier: R,
}

/// What a submission is, given what came before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry<R> {
    /// A repeat of an accepted one: answer with its receipt.
    Replay(R),
    /// Its Idempotency-Key was used for other content (or another call).
    KeyReused(R),
    /// The entity has made as many applications to the call as it may; `R` is its first.
    AlreadyApplied(R),
    /// Nothing like it before.
    New,
}

/// Decides what a submission is.
///
/// - A key already used decides alone: a replay if it carried the same call and content,
///   otherwise a conflict.
/// - Otherwise, the same content as an earlier application of the entity to the call is
///   a retry of it, with or without a key, whatever the call's limit: a client that lost
///   the answer and sends again with a new key gets the first receipt.
/// - Otherwise, with `limit` applications per entity (0: unlimited) already made, the
///   submission is refused, naming the first.
///
/// `earlier`: the entity's applications to the call, oldest first, each with whether its
/// content is this submission's.
pub fn classify<R>(
    by_key: Option<KeyUse<R>>,
    earlier: impl IntoIterator<Item = (bool, R)>,
    limit: u32,
) -> Retry<R> {
    if let Some(k) = by_key {
        return if k.same_call_and_content {
            Retry::Replay(k.earlier)
        } else {
            Retry::KeyReused(k.earlier)
        };
    }
    let mut first = None;
    let mut count = 0usize;
    for (same_content, r) in earlier {
        if same_content {
            return Retry::Replay(r);
        }
        count += 1;
        if first.is_none() {
            first = Some(r);
        }
    }
    match first {
        Some(f) if limit > 0 && count >= limit as usize => Retry::AlreadyApplied(f),
        _ => Retry::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_used_key_decides_alone() {
        let same = Some(KeyUse {
            same_call_and_content: true,
            earlier: 7,
        });
        let other = Some(KeyUse {
            same_call_and_content: false,
            earlier: 7,
        });
        assert_eq!(classify(same, [(false, 1)], 1), Retry::Replay(7));
        assert_eq!(classify(other, [(true, 1)], 0), Retry::KeyReused(7));
    }

    #[test]
    fn the_same_content_is_a_retry_with_or_without_a_new_key() {
        assert_eq!(classify(None, [(false, 1), (true, 2)], 1), Retry::Replay(2));
        assert_eq!(classify(None, [(true, 3)], 0), Retry::Replay(3));
    }

    #[test]
    fn the_limit_names_the_first() {
        assert_eq!(
            classify::<u64>(None, [(false, 4)], 1),
            Retry::AlreadyApplied(4)
        );
        assert_eq!(
            classify::<u64>(None, [(false, 4), (false, 5)], 2),
            Retry::AlreadyApplied(4)
        );
        assert_eq!(classify::<u64>(None, [(false, 4)], 2), Retry::New);
        assert_eq!(classify::<u64>(None, [(false, 4)], 0), Retry::New);
        assert_eq!(classify::<u64>(None, [], 1), Retry::New);
    }
}
