//! Values a receiver derives rather than reads from the message
//! (content-08 `implied.cddl`, §"Derived Data Values").

use std::collections::BTreeMap;

use ciborium::value::Value;
use serde::Serialize;

use super::cbor::{Reader, Writer, MAJOR_TAG, MAJOR_UINT};
use super::codec::read_name_value_map;
use super::error::ContentError;
use super::types::{ser_hex, ExtensionKey, MessageId, MESSAGE_ID_LEN};

/// CBOR tag of RFC 9581 extended time.
pub const EXTENDED_TIME_TAG: u64 = 1001;

/// Largest text/byte value in an `ExtendedTime` map (`value = any .size (0..4095)`).
pub const MAX_EXTENDED_TIME_VALUE_LEN: usize = 4095;

/// `MessageDerivedValues` of `implied.cddl` (a 7-element array).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDerivedValues {
    /// The message id (content-08 §"Message ID").
    pub message_id: MessageId,
    /// When the hub accepted the message.
    pub hub_accepted_timestamp: Timestamp,
    /// The MLS group id.
    #[serde(serialize_with = "ser_hex")]
    pub mls_group_id: Vec<u8>,
    /// The sender's leaf index (`uint .size 4`).
    pub sender_leaf_index: u32,
    /// The sending client's URI.
    pub sender_client_url: String,
    /// The sending user's URI ("From").
    pub sender_user_url: String,
    /// The room URI ("To").
    pub room_url: String,
}

/// `Timestamp = MsecsSinceEpoch / ExtendedTime`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Timestamp {
    /// Milliseconds since the UNIX epoch (`uint .size 8`).
    MsecsSinceEpoch(u64),
    /// RFC 9581 extended time: tag 1001 over `{* name => value}`.
    ExtendedTime(#[serde(serialize_with = "ser_ext_map")] BTreeMap<ExtensionKey, Value>),
}

fn ser_ext_map<S: serde::Serializer>(
    m: &BTreeMap<ExtensionKey, Value>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(m.len()))?;
    for (k, v) in m {
        seq.serialize_element(&(k, super::types::JsonValueRef(v)))?;
    }
    seq.end()
}

impl MessageDerivedValues {
    /// Decodes and validates derived values (deterministic encoding required,
    /// as for the content itself).
    pub fn decode(bytes: &[u8]) -> Result<Self, ContentError> {
        let mut r = Reader::new(bytes);
        r.array("messageDerivedValues", &[7], "7")?;
        let (id, off) = r.bytes("messageId")?;
        let id: [u8; MESSAGE_ID_LEN] =
            id.try_into().map_err(|_| ContentError::WrongByteLength {
                path: "messageId".to_owned(),
                offset: off,
                expected: MESSAGE_ID_LEN,
                found: id.len(),
            })?;
        let ts_off = r.pos();
        let hub_accepted_timestamp = match r.peek_byte().map(|b| b >> 5) {
            Some(MAJOR_TAG) => {
                let h = r.head("hubAcceptedTimestamp")?;
                if h.arg != EXTENDED_TIME_TAG {
                    return Err(ContentError::TagNotAllowed {
                        path: "hubAcceptedTimestamp".to_owned(),
                        offset: ts_off,
                        tag: h.arg,
                        expected: "uint or tag 1001",
                    });
                }
                Timestamp::ExtendedTime(read_name_value_map(
                    &mut r,
                    "hubAcceptedTimestamp<tag 1001>",
                    MAX_EXTENDED_TIME_VALUE_LEN,
                )?)
            }
            Some(m) if m == MAJOR_UINT => {
                Timestamp::MsecsSinceEpoch(r.uint("hubAcceptedTimestamp", u64::MAX)?.0)
            }
            _ => {
                let h = r.head("hubAcceptedTimestamp")?;
                return Err(Reader::mismatch(
                    &h,
                    "hubAcceptedTimestamp",
                    "uint or tag 1001",
                ));
            }
        };
        let mls_group_id = r.bytes("mlsGroupId")?.0.to_vec();
        let sender_leaf_index = r.uint("senderLeafIndex", u64::from(u32::MAX))?.0 as u32;
        let sender_client_url = r.text("senderClientUrl")?.0.to_owned();
        let sender_user_url = r.text("senderUserUrl")?.0.to_owned();
        let room_url = r.text("roomUrl")?.0.to_owned();
        r.finish()?;
        Ok(MessageDerivedValues {
            message_id: MessageId(id),
            hub_accepted_timestamp,
            mls_group_id,
            sender_leaf_index,
            sender_client_url,
            sender_user_url,
            room_url,
        })
    }

    /// Deterministic encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.array(7);
        w.bytes(self.message_id.as_bytes());
        match &self.hub_accepted_timestamp {
            Timestamp::MsecsSinceEpoch(ms) => w.uint(*ms),
            Timestamp::ExtendedTime(m) => {
                w.head(MAJOR_TAG, EXTENDED_TIME_TAG);
                w.map(m.len());
                // BTreeMap<ExtensionKey, _> iterates in deterministic key order.
                for (k, v) in m {
                    w.raw(&k.encoded());
                    w.value(v);
                }
            }
        }
        w.bytes(&self.mls_group_id);
        w.uint(u64::from(self.sender_leaf_index));
        w.text(&self.sender_client_url);
        w.text(&self.sender_user_url);
        w.text(&self.room_url);
        w.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_time_round_trips() {
        let mut m = BTreeMap::new();
        m.insert(
            ExtensionKey::Int(1),
            Value::Integer(1_644_387_225u64.into()),
        );
        m.insert(ExtensionKey::Int(-3), Value::Integer(19u64.into()));
        let v = MessageDerivedValues {
            message_id: MessageId([1; 32]),
            hub_accepted_timestamp: Timestamp::ExtendedTime(m),
            mls_group_id: vec![0xee; 4],
            sender_leaf_index: 4,
            sender_client_url: "mimi://a.example/d/x/1".into(),
            sender_user_url: "mimi://a.example/u/x".into(),
            room_url: "mimi://a.example/r/y".into(),
        };
        let bytes = v.encode();
        assert_eq!(MessageDerivedValues::decode(&bytes).unwrap(), v);
    }

    #[test]
    fn other_tag_is_refused() {
        // [h'00'*32, 1(0), ...] -- tag 1 (epoch time) is not the CDDL's tag 1001.
        let mut b = vec![0x87, 0x58, 0x20];
        b.extend([0u8; 32]);
        b.extend([0xc1, 0x00]);
        assert!(matches!(
            MessageDerivedValues::decode(&b),
            Err(ContentError::TagNotAllowed { tag: 1, .. })
        ));
    }
}
