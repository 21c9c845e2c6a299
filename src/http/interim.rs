//! A stand-in [`ProviderCore`] for `mimi-ref serve` until the sans-IO hub and follower
//! are plugged in: it accepts `/notify` (protocol-06 §5.5) with duplicate detection and
//! answers every other endpoint with 501.
//!
//! * `/notify`: the body has already been checked to be well-formed `FanoutMessages` by
//!   the shell. The first copy of a body from a given hub is recorded (SHA-256 of hub
//!   domain, room and body, in a rolling window of [`InterimCore::WINDOW`] entries) and
//!   answered 201; a byte-identical repeat is answered 201 and not recorded again (§5.5:
//!   MUST answer 201, SHOULD process only the first).
//! * every other endpoint: 501 Not Implemented, with a text body saying so.

use std::collections::{HashSet, VecDeque};

use sha2::{Digest, Sha256};

use super::{CoreOutput, Endpoint, ProviderCore, Request};

/// One fanout body received from a hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The hub's domain.
    pub from: String,
    /// The room (path parameter).
    pub room: String,
    /// The body (concatenated FanoutMessages).
    pub body: Vec<u8>,
    /// The time it was accepted.
    pub now_ms: u64,
}

/// The stand-in core (see the module docs).
#[derive(Debug, Default)]
pub struct InterimCore {
    seen: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
    /// The last [`InterimCore::KEEP`] fanout bodies processed (first copies only), in order.
    pub received: Vec<Received>,
    /// How many fanout bodies were processed (first copies only).
    pub processed: u64,
    /// How many duplicates were answered without processing.
    pub duplicates: u64,
}

impl InterimCore {
    /// How many recent bodies duplicate detection remembers.
    pub const WINDOW: usize = 65_536;
    /// How many processed bodies are kept for inspection.
    pub const KEEP: usize = 1024;

    /// A fresh core.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ProviderCore for InterimCore {
    fn handle(&mut self, now_ms: u64, from_domain: &str, request: &Request) -> CoreOutput {
        if request.endpoint != Endpoint::Notify {
            return CoreOutput {
                status: 501,
                body: format!(
                    "{}: not implemented by the interim core of `mimi-ref serve` (hub and follower not plugged in yet)",
                    request.endpoint.name()
                )
                .into_bytes(),
                ..CoreOutput::default()
            };
        }
        // protocol-06 §5.5: duplicates are byte-identical bodies from the same hub.
        let mut h = Sha256::new();
        for part in [
            from_domain.as_bytes(),
            request.param.as_bytes(),
            &request.body,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        let key: [u8; 32] = h.finalize().into();
        if self.seen.insert(key) {
            self.order.push_back(key);
            if self.order.len() > Self::WINDOW {
                if let Some(old) = self.order.pop_front() {
                    self.seen.remove(&old);
                }
            }
            tracing::info!(from = %from_domain, room = %request.param, bytes = request.body.len(), decision = "processed", "notify");
            self.received.push(Received {
                from: from_domain.to_owned(),
                room: request.param.clone(),
                body: request.body.clone(),
                now_ms,
            });
            self.processed += 1;
            if self.received.len() > Self::KEEP {
                self.received.remove(0);
            }
        } else {
            self.duplicates += 1;
            tracing::info!(from = %from_domain, room = %request.param, decision = "duplicate", "notify");
        }
        CoreOutput {
            status: 201,
            ..CoreOutput::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notify(room: &str, body: &[u8]) -> Request {
        Request {
            endpoint: Endpoint::Notify,
            param: room.into(),
            body: body.to_vec(),
            seq: None,
        }
    }

    #[test]
    fn duplicates_get_201_and_are_processed_once() {
        let mut c = InterimCore::new();
        assert_eq!(c.handle(1, "a.example", &notify("r", b"x")).status, 201);
        assert_eq!(c.handle(2, "a.example", &notify("r", b"x")).status, 201);
        assert_eq!(c.handle(3, "b.example", &notify("r", b"x")).status, 201);
        assert_eq!(c.handle(4, "a.example", &notify("s", b"x")).status, 201);
        assert_eq!(c.received.len(), 3);
        assert_eq!(c.processed, 3);
        assert_eq!(c.duplicates, 1);
        let other = Request {
            endpoint: Endpoint::Update,
            param: "r".into(),
            body: vec![],
            seq: None,
        };
        assert_eq!(c.handle(5, "a.example", &other).status, 501);
    }
}
