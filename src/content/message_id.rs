//! Message-id derivation of content-08 §"Message ID".
//!
//! ```text
//! hash_output = SHA-256( uint16(len sender) || sender || uint16(len room) || room
//!                        || message || salt )
//! messageId   = 0x01 || hash_output[0..31]
//! ```
//! `message` is the whole encoded content (salt included); the salt is hashed
//! again at the end. Lengths are big-endian 16-bit octet counts (new in -08).

use sha2::{Digest, Sha256};

use super::error::ContentError;
use super::types::{HashAlgorithm, MessageId, MimiContent, MESSAGE_ID_LEN, SALT_LEN};

/// Derives a message id from already-encoded content bytes and its salt
/// (content-08 §"Message ID"). Hashes `message` exactly as given; the caller
/// vouches that `salt` is the message's salt. Fails only when a URI is longer
/// than 65535 octets (it would not fit the 16-bit length prefix).
pub fn derive_message_id(
    sender_uri: &str,
    room_uri: &str,
    message: &[u8],
    salt: &[u8; SALT_LEN],
) -> Result<MessageId, ContentError> {
    let sender_len = u16::try_from(sender_uri.len()).map_err(|_| ContentError::UriTooLong {
        which: "sender",
        len: sender_uri.len(),
    })?;
    let room_len = u16::try_from(room_uri.len()).map_err(|_| ContentError::UriTooLong {
        which: "room",
        len: room_uri.len(),
    })?;
    let mut h = Sha256::new();
    h.update(sender_len.to_be_bytes());
    h.update(sender_uri.as_bytes());
    h.update(room_len.to_be_bytes());
    h.update(room_uri.as_bytes());
    h.update(message);
    h.update(salt);
    let digest = h.finalize();
    let mut id = [0u8; MESSAGE_ID_LEN];
    id[0] = HashAlgorithm::Sha256.code();
    id[1..].copy_from_slice(&digest[..MESSAGE_ID_LEN - 1]);
    Ok(MessageId(id))
}

/// The superseded draft-07 construction, `0x01 || SHA-256(sender || room ||
/// message || salt)[0..31]` with no length prefixes. Kept only to recognise
/// ids computed by -07-era tools: the `implied-original.cbor` example still
/// carries one (see `spec/deviations.md`). Never use it for new messages.
pub fn derive_message_id_draft07(
    sender_uri: &str,
    room_uri: &str,
    message: &[u8],
    salt: &[u8; SALT_LEN],
) -> MessageId {
    let mut h = Sha256::new();
    h.update(sender_uri.as_bytes());
    h.update(room_uri.as_bytes());
    h.update(message);
    h.update(salt);
    let digest = h.finalize();
    let mut id = [0u8; MESSAGE_ID_LEN];
    id[0] = HashAlgorithm::Sha256.code();
    id[1..].copy_from_slice(&digest[..MESSAGE_ID_LEN - 1]);
    MessageId(id)
}

/// Validates received content bytes and derives their message id over the
/// bytes as received (not a re-encoding).
pub fn message_id_of_bytes(
    sender_uri: &str,
    room_uri: &str,
    message: &[u8],
) -> Result<MessageId, ContentError> {
    let content = MimiContent::decode(message)?;
    derive_message_id(sender_uri, room_uri, message, &content.salt)
}

impl MimiContent {
    /// The message id of this message, sent by `sender_uri` in `room_uri`
    /// (content-08 §"Message ID"), over its deterministic encoding.
    ///
    /// The URIs should be the authenticated sender and room, not values taken
    /// from the message's own extensions (see `spec/deviations.md`).
    pub fn message_id(&self, sender_uri: &str, room_uri: &str) -> Result<MessageId, ContentError> {
        let bytes = self.encode()?;
        derive_message_id(sender_uri, room_uri, &bytes, &self.salt)
    }

    /// The message id using the URIs in extension keys 1 (senderUri) and
    /// 2 (roomUri), as the draft's example generator does.
    pub fn message_id_from_extensions(&self) -> Result<MessageId, ContentError> {
        let sender = self
            .extensions
            .sender_uri
            .as_deref()
            .ok_or(ContentError::MissingUri {
                which: "sender",
                key: 1,
            })?;
        let room = self
            .extensions
            .room_uri
            .as_deref()
            .ok_or(ContentError::MissingUri {
                which: "room",
                key: 2,
            })?;
        self.message_id(sender, room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixes_change_the_id() {
        // Moving one octet between sender and room keeps the concatenation equal;
        // only the -08 length prefixes tell the two apart.
        let salt = [7u8; SALT_LEN];
        let a = derive_message_id("ab", "c", b"m", &salt).unwrap();
        let b = derive_message_id("a", "bc", b"m", &salt).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes()[0], 0x01);
    }

    #[test]
    fn overlong_uri_is_an_error() {
        let long = "x".repeat(65536);
        let salt = [0u8; SALT_LEN];
        assert!(matches!(
            derive_message_id(&long, "r", b"", &salt),
            Err(ContentError::UriTooLong {
                which: "sender",
                ..
            })
        ));
        assert!(derive_message_id(&long[..65535], "r", b"", &salt).is_ok());
    }
}
