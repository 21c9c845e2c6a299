//! Receiver-side checks that need context the bytes alone do not carry: the
//! receiver's clock and other messages (content-08 §"In-Reply-To" and the
//! discard-and-log list of its Security Considerations). Decoding does not run
//! these; a receiver calls them with its own clock and message store.

use std::collections::HashSet;

use super::error::ContentError;
use super::types::{Expiration, HashAlgorithm, MessageId, MimiContent};

/// "A year" for the expiry plausibility window: 365 days in seconds.
pub const ONE_YEAR_SECS: u64 = 365 * 24 * 60 * 60;

impl Expiration {
    /// Checks the expiry against the receiver clock `now` (UNIX seconds):
    /// absolute expiries more than a year in the past, and any expiry more
    /// than a year in the future, are refused.
    pub fn check(&self, now: u64) -> Result<(), ContentError> {
        let t = u64::from(self.time);
        let too_far = if self.relative {
            t > ONE_YEAR_SECS
        } else {
            t > now.saturating_add(ONE_YEAR_SECS)
        };
        if too_far {
            return Err(ContentError::ExpiryTooFarInFuture {
                time: self.time,
                relative: self.relative,
            });
        }
        if !self.relative && t.saturating_add(ONE_YEAR_SECS) < now {
            return Err(ContentError::ExpiryTooFarInPast {
                time: self.time,
                now,
            });
        }
        Ok(())
    }
}

impl MimiContent {
    /// The receiver-policy checks that depend only on the message and the
    /// clock: the expiry window and the hash algorithm of referenced ids.
    /// (Unknown *targets* of `replaces`/`inReplyTo` are not an error.)
    pub fn check_receiver_rules(&self, now_unix_secs: u64) -> Result<(), ContentError> {
        if let Some(e) = &self.expires {
            e.check(now_unix_secs)?;
        }
        for (path, id) in [
            ("replaces", &self.replaces),
            ("inReplyTo", &self.in_reply_to),
        ] {
            if let Some(id) = id {
                if id.hash_algorithm() != HashAlgorithm::Sha256 {
                    return Err(ContentError::UnknownHashAlgorithm {
                        path,
                        code: id.as_bytes()[0],
                    });
                }
            }
        }
        Ok(())
    }
}

/// Follows a reply chain from `start` (content-08 §"In-Reply-To").
/// `in_reply_to_of` returns the `inReplyTo` of a known message, or `None`
/// when the message is unknown or replies to nothing (the chain ends; an
/// unknown target is not an error). Returns the number of links followed, or
/// [`ContentError::ReplyLoop`] naming the first id reached twice.
pub fn check_reply_chain(
    start: MessageId,
    mut in_reply_to_of: impl FnMut(&MessageId) -> Option<MessageId>,
) -> Result<usize, ContentError> {
    let mut seen = HashSet::new();
    let mut current = start;
    let mut links = 0;
    loop {
        if !seen.insert(current) {
            return Err(ContentError::ReplyLoop { id: current });
        }
        match in_reply_to_of(&current) {
            Some(next) => {
                current = next;
                links += 1;
            }
            None => return Ok(links),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn expiry_window() {
        let abs = |time: u64| Expiration {
            relative: false,
            time: time as u32,
        };
        assert!(abs(NOW + 60).check(NOW).is_ok());
        assert!(abs(NOW - ONE_YEAR_SECS).check(NOW).is_ok());
        assert!(matches!(
            abs(NOW - ONE_YEAR_SECS - 1).check(NOW),
            Err(ContentError::ExpiryTooFarInPast { .. })
        ));
        assert!(abs(NOW + ONE_YEAR_SECS).check(NOW).is_ok());
        assert!(matches!(
            abs(NOW + ONE_YEAR_SECS + 1).check(NOW),
            Err(ContentError::ExpiryTooFarInFuture {
                relative: false,
                ..
            })
        ));
        let rel = |time: u32| Expiration {
            relative: true,
            time,
        };
        assert!(rel(3600).check(NOW).is_ok());
        assert!(matches!(
            rel(ONE_YEAR_SECS as u32 + 1).check(NOW),
            Err(ContentError::ExpiryTooFarInFuture { relative: true, .. })
        ));
    }

    fn id(n: u8) -> MessageId {
        let mut b = [n; 32];
        b[0] = 1;
        MessageId(b)
    }

    #[test]
    fn reply_chains() {
        let mut parent = HashMap::new();
        parent.insert(id(3), id(2));
        parent.insert(id(2), id(1));
        assert_eq!(check_reply_chain(id(3), |m| parent.get(m).copied()), Ok(2));
        // An unknown parent ends the chain.
        parent.insert(id(1), id(9));
        assert_eq!(check_reply_chain(id(3), |m| parent.get(m).copied()), Ok(3));
        // 9 -> 3 closes a loop.
        parent.insert(id(9), id(3));
        assert_eq!(
            check_reply_chain(id(3), |m| parent.get(m).copied()),
            Err(ContentError::ReplyLoop { id: id(3) })
        );
        // A self-reply is a loop too.
        assert!(check_reply_chain(id(5), |_| Some(id(5))).is_err());
    }
}
