//! Reading the cleartext header of a PublicMessage handshake without
//! validating it (RFC 9420 §6, §6.2), and computing ProposalRefs.
//!
//! The hub needs two things openmls does not expose for a message it has not
//! (yet) accepted: the sender and proposal type of a PublicMessage (to block
//! removed or banned users before processing, protocol-06 §5.3), and the
//! ProposalRef of a proposal it refuses (`invalidProposal` lists ProposalRefs).

use sha2::{Digest, Sha256};

/// What the header of a PublicMessage says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The epoch.
    pub epoch: u64,
    /// The sender's leaf index, for a member sender.
    pub member_leaf: Option<u32>,
    /// The RFC 9420 sender type (1 member, 2 external, 3 new_member_proposal,
    /// 4 new_member_commit).
    pub sender_type: u8,
    /// The content type (1 application, 2 proposal, 3 commit).
    pub content_type: u8,
    /// For a proposal: its proposal type.
    pub proposal_type: Option<u16>,
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Option<u64> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Some(u64::from_be_bytes(a))
    }
    /// RFC 9420 §2.1.2 variable-length integer.
    fn varint(&mut self) -> Option<usize> {
        let first = self.u8()?;
        let len = 1usize << (first >> 6);
        if len == 8 {
            return None;
        }
        let mut v = usize::from(first & 0x3f);
        for _ in 1..len {
            v = (v << 8) | usize::from(self.u8()?);
        }
        Some(v)
    }
    fn vl(&mut self) -> Option<&'a [u8]> {
        let n = self.varint()?;
        self.take(n)
    }
}

/// Read the header of an `MLSMessage` carrying a PublicMessage; `None` if the
/// bytes are not one.
pub fn public_header(mls_message: &[u8]) -> Option<Header> {
    let mut c = Cursor {
        b: mls_message,
        at: 0,
    };
    let _version = c.u16()?;
    if c.u16()? != 1 {
        return None; // not mls_public_message
    }
    let _group_id = c.vl()?;
    let epoch = c.u64()?;
    let sender_type = c.u8()?;
    let member_leaf = match sender_type {
        1 => Some(c.u32()?),
        2 => {
            c.u32()?;
            None
        }
        3 | 4 => None,
        _ => return None,
    };
    let _aad = c.vl()?;
    let content_type = c.u8()?;
    let proposal_type = if content_type == 2 {
        Some(c.u16()?)
    } else {
        None
    };
    Some(Header {
        epoch,
        member_leaf,
        sender_type,
        content_type,
        proposal_type,
    })
}

fn vl_encode(out: &mut Vec<u8>, data: &[u8]) {
    let n = data.len();
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.extend_from_slice(&((n as u16) | 0x4000).to_be_bytes());
    } else {
        out.extend_from_slice(&((n as u32) | 0x8000_0000).to_be_bytes());
    }
    out.extend_from_slice(data);
}

/// The ProposalRef (RFC 9420 §5.2: `RefHash("MLS 1.0 Proposal Reference",
/// AuthenticatedContent)`, SHA-256 for the room ciphersuite) of a proposal in
/// an `MLSMessage` PublicMessage. The AuthenticatedContent is the message
/// without its version and without the membership tag a member sender's
/// message ends with (a 32-byte MAC behind a one-byte length).
pub fn proposal_ref(mls_message: &[u8]) -> Option<Vec<u8>> {
    let h = public_header(mls_message)?;
    if h.content_type != 2 {
        return None;
    }
    let end = if h.sender_type == 1 {
        mls_message.len().checked_sub(33)?
    } else {
        mls_message.len()
    };
    let content = mls_message.get(2..end)?;
    let mut input = Vec::with_capacity(content.len() + 40);
    vl_encode(&mut input, b"MLS 1.0 Proposal Reference");
    vl_encode(&mut input, content);
    Some(Sha256::digest(&input).to_vec())
}

/// RFC 9420 §6 wire formats.
pub mod wire_format {
    /// `mls_public_message`.
    pub const PUBLIC_MESSAGE: u16 = 1;
    /// `mls_private_message`.
    pub const PRIVATE_MESSAGE: u16 = 2;
    /// `mls_welcome`.
    pub const WELCOME: u16 = 3;
    /// `mls_group_info`.
    pub const GROUP_INFO: u16 = 4;
    /// `mls_key_package`.
    pub const KEY_PACKAGE: u16 = 5;
}

/// Wrap a bare Welcome / GroupInfo / KeyPackage into an `MLSMessage` (mls10).
pub fn mls_wrap(wire_format: u16, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(body.len() + 4);
    v.extend_from_slice(&1u16.to_be_bytes());
    v.extend_from_slice(&wire_format.to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// The body of an `MLSMessage` of the given wire format (the bare Welcome,
/// GroupInfo or KeyPackage); `None` for another wire format or version.
pub fn mls_body(wire_format: u16, mls_message: &[u8]) -> Option<&[u8]> {
    let head = mls_message.get(..4)?;
    (head[..2] == 1u16.to_be_bytes() && head[2..] == wire_format.to_be_bytes())
        .then(|| &mls_message[4..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wrap_and_body_round_trip() {
        let w = mls_wrap(wire_format::WELCOME, b"abc");
        assert_eq!(w, vec![0, 1, 0, 3, b'a', b'b', b'c']);
        assert_eq!(mls_body(wire_format::WELCOME, &w), Some(&b"abc"[..]));
        assert_eq!(mls_body(wire_format::GROUP_INFO, &w), None);
        assert_eq!(mls_body(wire_format::WELCOME, &[0, 1]), None);
    }

    #[test]
    fn header_of_a_member_proposal() {
        // version, public_message, group_id "g", epoch 7, member leaf 2, empty aad,
        // content type proposal, proposal type remove (3).
        let mut m = vec![0, 1, 0, 1, 1, b'g'];
        m.extend_from_slice(&7u64.to_be_bytes());
        m.push(1);
        m.extend_from_slice(&2u32.to_be_bytes());
        m.extend_from_slice(&[0, 2, 0, 3]);
        let h = public_header(&m).unwrap();
        assert_eq!(
            h,
            Header {
                epoch: 7,
                member_leaf: Some(2),
                sender_type: 1,
                content_type: 2,
                proposal_type: Some(3),
            }
        );
        // Too short for a membership tag: no ProposalRef.
        assert_eq!(proposal_ref(&m), None);
        m.extend_from_slice(&[0u8; 33]);
        assert_eq!(proposal_ref(&m).map(|r| r.len()), Some(32));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = public_header(&bytes);
            let _ = proposal_ref(&bytes);
        }
    }
}
