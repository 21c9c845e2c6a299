//! The embedded store (redb): the outgoing queues, the log of accepted events and the
//! dead letters (protocol-06 §5.5: "success is a commitment to distribute", so a queued
//! fanout must survive a crash).
//!
//! Tables:
//! * `outq`: (peer domain, seq) → encoded [`Request`]; seq is global and increasing, so
//!   one peer's range is its queue in order;
//! * `events`: seq → encoded [`Event`], everything that changed the core, in order, for
//!   replay on restart;
//! * `dead`: (peer domain, seq) → encoded [`Request`] rejected for good by the peer;
//! * `meta`: counters.
//!
//! Every write is one redb transaction with immediate durability: an accepted request,
//! its event and the outgoing requests it caused are committed together before the 2xx
//! answer is sent.

use std::collections::BTreeSet;
use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};

use super::{DeliveryResult, Endpoint, ForwardAnswer, Outgoing, Request};

const OUTQ: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("outq");
const DEAD: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("dead");
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("store: {0}")]
    Db(Box<redb::Error>),
    /// A stored record does not decode (the file was damaged or written by another
    /// version).
    #[error("store: corrupt {table} record: {why}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        why: &'static str,
    },
}

fn db<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Db(Box::new(e.into()))
}

/// Something that changed the core's state, logged for replay (in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An inbound request the core answered with 2xx or forwarded.
    Inbound {
        /// The time handed to the core.
        now_ms: u64,
        /// The authenticated source domain.
        from: String,
        /// The request.
        request: Request,
    },
    /// A queued request ended; the core was told.
    DeliveryEnded {
        /// The time handed to the core.
        now_ms: u64,
        /// The peer.
        to: String,
        /// The request.
        request: Request,
        /// How it ended.
        result: DeliveryResult,
    },
    /// The answer to a forwarded request was handed to the core.
    ForwardAnswered {
        /// The time handed to the core.
        now_ms: u64,
        /// The source of the original request.
        from: String,
        /// The original request.
        original: Request,
        /// What was forwarded, to whom.
        forwarded: Outgoing,
        /// The peer's answer.
        answer: ForwardAnswer,
    },
    /// An operation of one of our own local clients (not a protocol message; see
    /// [`crate::http::ProviderCore::handle_local`]), journaled so that a restart replays it.
    Local {
        /// The time handed to the core.
        now_ms: u64,
        /// The core's own encoding of the operation.
        op: Vec<u8>,
    },
}

struct W(Vec<u8>);
impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v)
    }
    fn u16(&mut self, v: u16) {
        self.0.extend(v.to_be_bytes())
    }
    fn u64(&mut self, v: u64) {
        self.0.extend(v.to_be_bytes())
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend((b.len() as u64).to_be_bytes());
        self.0.extend(b);
    }
    fn request(&mut self, r: &Request) {
        let i = Endpoint::ALL
            .iter()
            .position(|e| *e == r.endpoint)
            .unwrap_or(0);
        self.u8(i as u8);
        self.bytes(r.param.as_bytes());
        self.bytes(&r.body);
        match r.seq {
            None => self.u8(0),
            Some(n) => {
                self.u8(1);
                self.u64(n);
            }
        }
    }
}

struct Rd<'a> {
    b: &'a [u8],
    table: &'static str,
}
impl<'a> Rd<'a> {
    fn err(&self, why: &'static str) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            why,
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.b.len() < n {
            return Err(self.err("truncated"));
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, StoreError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u64(&mut self) -> Result<u64, StoreError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }
    fn bytes(&mut self) -> Result<Vec<u8>, StoreError> {
        let n = usize::try_from(self.u64()?).map_err(|_| self.err("length"))?;
        Ok(self.take(n)?.to_vec())
    }
    fn string(&mut self) -> Result<String, StoreError> {
        String::from_utf8(self.bytes()?).map_err(|_| self.err("not UTF-8"))
    }
    fn request(&mut self) -> Result<Request, StoreError> {
        let i = self.u8()?;
        let endpoint = *Endpoint::ALL
            .get(usize::from(i))
            .ok_or_else(|| self.err("endpoint index"))?;
        let param = self.string()?;
        let body = self.bytes()?;
        let seq = match self.u8()? {
            0 => None,
            1 => Some(self.u64()?),
            _ => return Err(self.err("sequence number presence")),
        };
        Ok(Request {
            endpoint,
            param,
            body,
            seq,
        })
    }
    fn end(&self) -> Result<(), StoreError> {
        if self.b.is_empty() {
            Ok(())
        } else {
            Err(self.err("trailing bytes"))
        }
    }
}

fn enc_request(r: &Request) -> Vec<u8> {
    let mut w = W(Vec::new());
    w.request(r);
    w.0
}

fn dec_request(table: &'static str, b: &[u8]) -> Result<Request, StoreError> {
    let mut r = Rd { b, table };
    let v = r.request()?;
    r.end()?;
    Ok(v)
}

fn enc_event(e: &Event) -> Vec<u8> {
    let mut w = W(Vec::new());
    match e {
        Event::Inbound {
            now_ms,
            from,
            request,
        } => {
            w.u8(0);
            w.u64(*now_ms);
            w.bytes(from.as_bytes());
            w.request(request);
        }
        Event::DeliveryEnded {
            now_ms,
            to,
            request,
            result,
        } => {
            w.u8(1);
            w.u64(*now_ms);
            w.bytes(to.as_bytes());
            w.request(request);
            let (k, status, body) = match result {
                DeliveryResult::Delivered { status, body } => (0, status, body),
                DeliveryResult::Rejected { status, body } => (1, status, body),
            };
            w.u8(k);
            w.u16(*status);
            w.bytes(body);
        }
        Event::ForwardAnswered {
            now_ms,
            from,
            original,
            forwarded,
            answer,
        } => {
            w.u8(2);
            w.u64(*now_ms);
            w.bytes(from.as_bytes());
            w.request(original);
            w.bytes(forwarded.to_domain.as_bytes());
            w.request(&forwarded.request);
            match answer {
                ForwardAnswer::Answer { status, body } => {
                    w.u8(0);
                    w.u16(*status);
                    w.bytes(body);
                }
                ForwardAnswer::Failed(why) => {
                    w.u8(1);
                    w.bytes(why.as_bytes());
                }
            }
        }
        Event::Local { now_ms, op } => {
            w.u8(3);
            w.u64(*now_ms);
            w.bytes(op);
        }
    }
    w.0
}

fn dec_event(b: &[u8]) -> Result<Event, StoreError> {
    let mut r = Rd { b, table: "events" };
    let e = match r.u8()? {
        0 => Event::Inbound {
            now_ms: r.u64()?,
            from: r.string()?,
            request: r.request()?,
        },
        1 => {
            let now_ms = r.u64()?;
            let to = r.string()?;
            let request = r.request()?;
            let k = r.u8()?;
            let status = r.u16()?;
            let body = r.bytes()?;
            let result = match k {
                0 => DeliveryResult::Delivered { status, body },
                1 => DeliveryResult::Rejected { status, body },
                _ => return Err(r.err("delivery result kind")),
            };
            Event::DeliveryEnded {
                now_ms,
                to,
                request,
                result,
            }
        }
        2 => {
            let now_ms = r.u64()?;
            let from = r.string()?;
            let original = r.request()?;
            let to_domain = r.string()?;
            let request = r.request()?;
            let answer = match r.u8()? {
                0 => ForwardAnswer::Answer {
                    status: r.u16()?,
                    body: r.bytes()?,
                },
                1 => ForwardAnswer::Failed(r.string()?),
                _ => return Err(r.err("forward answer kind")),
            };
            Event::ForwardAnswered {
                now_ms,
                from,
                original,
                forwarded: Outgoing { to_domain, request },
                answer,
            }
        }
        3 => Event::Local {
            now_ms: r.u64()?,
            op: r.bytes()?,
        },
        _ => return Err(r.err("event kind")),
    };
    r.end()?;
    Ok(e)
}

/// The store of one provider.
pub struct Store {
    db: Database,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// Where a queued request ended up: (peer, seq).
pub type QueueKey = (String, u64);

impl Store {
    /// Opens (or creates) `DIR/mimi-ref.redb`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| db(redb::StorageError::Io(e)))?;
        let db_ = Database::create(dir.join("mimi-ref.redb")).map_err(db)?;
        Self::init(db_)
    }

    /// A store in memory (nothing survives the process).
    pub fn in_memory() -> Result<Self, StoreError> {
        let db_ = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(db)?;
        Self::init(db_)
    }

    fn init(db_: Database) -> Result<Self, StoreError> {
        let tx = db_.begin_write().map_err(db)?;
        tx.open_table(OUTQ).map_err(db)?;
        tx.open_table(DEAD).map_err(db)?;
        tx.open_table(EVENTS).map_err(db)?;
        tx.open_table(META).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Self { db: db_ })
    }

    /// In one durable transaction: logs `event` (if any), removes `done` from its queue
    /// (moving it to the dead letters if `dead`), and appends `outgoing` to the peers'
    /// queues. Returns the queue keys of `outgoing`, in order.
    pub fn commit(
        &self,
        event: Option<&Event>,
        done: Option<(&str, u64)>,
        dead: bool,
        outgoing: &[Outgoing],
    ) -> Result<Vec<QueueKey>, StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        let mut keys = Vec::with_capacity(outgoing.len());
        {
            let mut meta = tx.open_table(META).map_err(db)?;
            let mut next = meta
                .get("next_seq")
                .map_err(db)?
                .map(|v| v.value())
                .unwrap_or(0);
            if let Some(e) = event {
                let mut events = tx.open_table(EVENTS).map_err(db)?;
                events.insert(next, enc_event(e).as_slice()).map_err(db)?;
                next += 1;
            }
            if let Some((peer, seq)) = done {
                let mut q = tx.open_table(OUTQ).map_err(db)?;
                let old = q
                    .remove((peer, seq))
                    .map_err(db)?
                    .map(|v| v.value().to_vec());
                if let (true, Some(old)) = (dead, old) {
                    let mut d = tx.open_table(DEAD).map_err(db)?;
                    d.insert((peer, seq), old.as_slice()).map_err(db)?;
                }
            }
            if !outgoing.is_empty() {
                let mut q = tx.open_table(OUTQ).map_err(db)?;
                for o in outgoing {
                    q.insert(
                        (o.to_domain.as_str(), next),
                        enc_request(&o.request).as_slice(),
                    )
                    .map_err(db)?;
                    keys.push((o.to_domain.clone(), next));
                    next += 1;
                }
            }
            meta.insert("next_seq", next).map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(keys)
    }

    /// Up to `limit` queued requests for `peer`, oldest first.
    pub fn pending(&self, peer: &str, limit: usize) -> Result<Vec<(u64, Request)>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let q = tx.open_table(OUTQ).map_err(db)?;
        let mut out = Vec::new();
        for item in q.range((peer, 0)..=(peer, u64::MAX)).map_err(db)? {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(db)?;
            out.push((k.value().1, dec_request("outq", v.value())?));
        }
        Ok(out)
    }

    /// Every peer with a non-empty queue.
    pub fn peers_with_pending(&self) -> Result<BTreeSet<String>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let q = tx.open_table(OUTQ).map_err(db)?;
        let mut out = BTreeSet::new();
        for item in q.iter().map_err(db)? {
            let (k, _) = item.map_err(db)?;
            out.insert(k.value().0.to_owned());
        }
        Ok(out)
    }

    /// The number of queued requests for every peer.
    pub fn queue_len(&self, peer: &str) -> Result<usize, StoreError> {
        Ok(self.pending(peer, usize::MAX)?.len())
    }

    /// The requests `peer` rejected for good, oldest first.
    pub fn dead(&self, peer: &str) -> Result<Vec<(u64, Request)>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let q = tx.open_table(DEAD).map_err(db)?;
        let mut out = Vec::new();
        for item in q.range((peer, 0)..=(peer, u64::MAX)).map_err(db)? {
            let (k, v) = item.map_err(db)?;
            out.push((k.value().1, dec_request("dead", v.value())?));
        }
        Ok(out)
    }

    /// The event log, in order.
    pub fn events(&self) -> Result<Vec<Event>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(EVENTS).map_err(db)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(db)? {
            let (_, v) = item.map_err(db)?;
            out.push(dec_event(v.value())?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(p: &str, b: &[u8]) -> Request {
        Request {
            endpoint: Endpoint::Notify,
            param: p.into(),
            body: b.to_vec(),
            seq: Some(7),
        }
    }

    #[test]
    fn queues_are_ordered_and_durable_across_reopen() {
        let dir = std::env::temp_dir().join(format!("mimi-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let s = Store::open(&dir).unwrap();
            let ev = Event::Inbound {
                now_ms: 5,
                from: "b.example".into(),
                request: req("r", b"x"),
            };
            let out: Vec<Outgoing> = (0..3u8)
                .map(|i| Outgoing {
                    to_domain: if i == 1 { "c.example" } else { "b.example" }.into(),
                    request: req("r", &[i]),
                })
                .collect();
            let keys = s.commit(Some(&ev), None, false, &out).unwrap();
            assert_eq!(keys.len(), 3);
            assert!(keys[0].1 < keys[2].1);
        }
        let s = Store::open(&dir).unwrap();
        let p = s.pending("b.example", 10).unwrap();
        assert_eq!(
            p.iter().map(|(_, r)| r.body.clone()).collect::<Vec<_>>(),
            vec![vec![0], vec![2]]
        );
        assert_eq!(s.events().unwrap().len(), 1);
        let (seq, r) = p[0].clone();
        let ev = Event::DeliveryEnded {
            now_ms: 6,
            to: "b.example".into(),
            request: r,
            result: DeliveryResult::Rejected {
                status: 400,
                body: vec![],
            },
        };
        s.commit(Some(&ev), Some(("b.example", seq)), true, &[])
            .unwrap();
        assert_eq!(s.queue_len("b.example").unwrap(), 1);
        assert_eq!(s.dead("b.example").unwrap().len(), 1);
        assert_eq!(s.events().unwrap()[1], ev);
        assert_eq!(
            s.peers_with_pending()
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            vec!["b.example".to_string(), "c.example".to_string()]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn events_round_trip() {
        let fwd = Event::ForwardAnswered {
            now_ms: 9,
            from: "c.example".into(),
            original: req("r", b"o"),
            forwarded: Outgoing {
                to_domain: "b.example".into(),
                request: req("s", b"f"),
            },
            answer: ForwardAnswer::Answer {
                status: 200,
                body: b"kp".to_vec(),
            },
        };
        let failed = Event::ForwardAnswered {
            now_ms: 10,
            from: "c.example".into(),
            original: req("r", b""),
            forwarded: Outgoing {
                to_domain: "b.example".into(),
                request: req("", b""),
            },
            answer: ForwardAnswer::Failed("down".into()),
        };
        let local = Event::Local {
            now_ms: 11,
            op: b"{\"Register\":{}}".to_vec(),
        };
        for e in [fwd, failed, local] {
            assert_eq!(dec_event(&enc_event(&e)).unwrap(), e);
        }
        // A truncated local event is a typed error.
        let mut b = enc_event(&Event::Local {
            now_ms: 1,
            op: vec![1, 2, 3],
        });
        b.pop();
        assert!(matches!(dec_event(&b), Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn corrupt_records_are_typed_errors() {
        assert!(matches!(
            dec_request("outq", &[99]),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(dec_event(&[7]), Err(StoreError::Corrupt { .. })));
        let mut b = enc_request(&req("r", b"abc"));
        b.push(0);
        assert!(dec_request("outq", &b).is_err());
    }
}
