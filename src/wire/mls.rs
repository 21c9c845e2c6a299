//! MLS objects embedded in MIMI structs, and the MLS / mls-extensions helper types the
//! protocol draft references (protocol-06 §4.11 of our digest; RFC 9420; draft-ietf-mls-extensions).
//!
//! Composite MLS objects are held as [`Mls<K>`]: the exact bytes that openmls 0.9.2's own
//! deserializer consumed, with [`Mls::parse`] returning the openmls type. See the module
//! doc of [`crate::wire`] for why.

use std::marker::PhantomData;

use openmls::messages::group_info::{GroupInfo, VerifiableGroupInfo};
use openmls::prelude::{
    Capabilities, Ciphersuite, Credential, Extensions, KeyPackageIn, MlsMessageBodyIn,
    MlsMessageIn, RatchetTreeIn, RequiredCapabilitiesExtension, Welcome,
};
use openmls::prelude::{ContentType, ExternalSender, WireFormat};
use serde::Serialize;
use tls_codec::{Deserialize as _, Serialize as TlsSerializeTrait, Size};

use super::common::{
    decode_stream, put, tls_via_wire, wire_enum, wire_struct, Opaque, Reader, WireDecode,
    WireError, WireErrorKind,
};

/// One kind of MLS object: its name and the openmls type that parses it.
pub trait MlsKind: 'static {
    /// The RFC 9420 / extension draft structure name.
    const NAME: &'static str;
    /// The openmls type whose deserializer validates the bytes.
    type Parsed: tls_codec::Deserialize;
    /// A little structure for JSON output (what openmls gives cheaply).
    fn describe(_p: &Self::Parsed) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// An MLS object kept in its validated serialized form.
pub struct Mls<K: MlsKind> {
    bytes: Vec<u8>,
    _k: PhantomData<K>,
}

impl<K: MlsKind> Mls<K> {
    /// Validates `bytes` as exactly one `K` (trailing bytes are an error).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::from_slice(bytes);
        let v = Self::decode(&mut r)?;
        if r.pos() != bytes.len() {
            return Err(WireError::new(
                r.pos(),
                WireErrorKind::TrailingBytes(bytes.len() - r.pos()),
            ));
        }
        Ok(v)
    }

    /// Serializes an openmls value and validates it as a `K`.
    pub fn from_openmls<T: TlsSerializeTrait>(v: &T) -> Result<Self, WireError> {
        let bytes = v.tls_serialize_detached().map_err(|e| {
            WireError::new(
                0,
                WireErrorKind::Mls {
                    mls_type: K::NAME,
                    reason: format!("{e:?}"),
                },
            )
        })?;
        Self::from_bytes(&bytes)
    }

    /// The serialized bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Parses the bytes with openmls (they were validated on construction).
    pub fn parse(&self) -> Result<K::Parsed, tls_codec::Error> {
        K::Parsed::tls_deserialize_exact(&self.bytes)
    }
}

impl<K: MlsKind> Clone for Mls<K> {
    fn clone(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
            _k: PhantomData,
        }
    }
}
impl<K: MlsKind> PartialEq for Mls<K> {
    fn eq(&self, o: &Self) -> bool {
        self.bytes == o.bytes
    }
}
impl<K: MlsKind> Eq for Mls<K> {}
impl<K: MlsKind> std::fmt::Debug for Mls<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({} bytes)", K::NAME, self.bytes.len())
    }
}
impl<K: MlsKind> Size for Mls<K> {
    fn tls_serialized_len(&self) -> usize {
        self.bytes.len()
    }
}
impl<K: MlsKind> TlsSerializeTrait for Mls<K> {
    fn tls_serialize<W: std::io::Write>(&self, w: &mut W) -> Result<usize, tls_codec::Error> {
        w.write_all(&self.bytes)
            .map_err(|e| tls_codec::Error::EncodingError(e.to_string()))?;
        Ok(self.bytes.len())
    }
}
impl<K: MlsKind> tls_codec::Deserialize for Mls<K> {
    fn tls_deserialize<R: std::io::Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
        decode_stream(bytes)
    }
}
impl<K: MlsKind> WireDecode for Mls<K> {
    const NAME: &'static str = K::NAME;
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (_, bytes) = r.foreign::<K::Parsed>(K::NAME)?;
        Ok(Self {
            bytes,
            _k: PhantomData,
        })
    }
}
impl<K: MlsKind> Serialize for Mls<K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("mls", K::NAME)?;
        m.serialize_entry("len", &self.bytes.len())?;
        if let Ok(p) = self.parse() {
            let d = K::describe(&p);
            if !d.is_null() {
                m.serialize_entry("summary", &d)?;
            }
        }
        m.serialize_entry("hex", &hex::encode(&self.bytes))?;
        m.end()
    }
}

macro_rules! kind {
    ($(#[$m:meta])* $k:ident, $alias:ident, $name:literal, $parsed:ty $(, |$p:ident| $d:expr)?) => {
        $(#[$m])*
        #[derive(Debug)]
        pub enum $k {}
        impl MlsKind for $k {
            const NAME: &'static str = $name;
            type Parsed = $parsed;
            $(fn describe($p: &Self::Parsed) -> serde_json::Value { $d })?
        }
        $(#[$m])*
        pub type $alias = Mls<$k>;
    };
}

fn wire_format_name(w: WireFormat) -> &'static str {
    match w {
        WireFormat::PublicMessage => "mls_public_message",
        WireFormat::PrivateMessage => "mls_private_message",
        WireFormat::Welcome => "mls_welcome",
        WireFormat::GroupInfo => "mls_group_info",
        WireFormat::KeyPackage => "mls_key_package",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

fn content_type_name(c: ContentType) -> &'static str {
    match c {
        ContentType::Application => "application",
        ContentType::Proposal => "proposal",
        ContentType::Commit => "commit",
    }
}

fn describe_message(m: &MlsMessageIn) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert(
        "wire_format".into(),
        wire_format_name(m.wire_format()).into(),
    );
    match m.clone().extract() {
        MlsMessageBodyIn::PublicMessage(p) => {
            o.insert("epoch".into(), p.epoch().as_u64().into());
            o.insert(
                "content_type".into(),
                content_type_name(p.content_type()).into(),
            );
            o.insert(
                "group_id".into(),
                hex::encode(p.group_id().as_slice()).into(),
            );
        }
        MlsMessageBodyIn::PrivateMessage(p) => {
            o.insert("epoch".into(), p.epoch().as_u64().into());
            o.insert(
                "content_type".into(),
                content_type_name(p.content_type()).into(),
            );
            o.insert(
                "group_id".into(),
                hex::encode(p.group_id().as_slice()).into(),
            );
        }
        MlsMessageBodyIn::Welcome(w) => {
            o.insert("cipher_suite".into(), u16::from(w.ciphersuite()).into());
        }
        _ => {}
    }
    serde_json::Value::Object(o)
}

kind!(
    /// `MLSMessage` (RFC 9420 §6).
    MlsMessageKind, MlsMessage, "MLSMessage", MlsMessageIn, |p| describe_message(p)
);
kind!(
    /// `KeyPackage` (RFC 9420 §10), not wrapped in an MLSMessage.
    KeyPackageKind, KeyPackage, "KeyPackage", KeyPackageIn,
    |p| {
        // KeyPackage starts with version (uint16) and cipher_suite (uint16).
        let suite = p
            .tls_serialize_detached()
            .ok()
            .and_then(|b| b.get(2..4).map(|s| u16::from_be_bytes([s[0], s[1]])));
        let cred = p.unverified_credential().credential;
        serde_json::json!({
            "cipher_suite": suite,
            "credential_type": u16::from(cred.credential_type()),
            "identity": String::from_utf8_lossy(cred.serialized_content()),
        })
    }
);
kind!(
    /// `Welcome` (RFC 9420 §12.4.3.1), not wrapped in an MLSMessage.
    WelcomeKind, MlsWelcome, "Welcome", Welcome,
    |p| serde_json::json!({"cipher_suite": u16::from(p.ciphersuite())})
);
kind!(
    /// `GroupInfo` (RFC 9420 §12.4.3), not wrapped in an MLSMessage.
    GroupInfoKind, MlsGroupInfo, "GroupInfo", VerifiableGroupInfo,
    |p| serde_json::json!({"cipher_suite": u16::from(p.ciphersuite())})
);
kind!(
    /// `Capabilities` (RFC 9420 §7.2).
    CapabilitiesKind, MlsCapabilities, "Capabilities", Capabilities
);
kind!(
    /// `RequiredCapabilities` (RFC 9420 §11.1).
    RequiredCapabilitiesKind, RequiredCapabilities, "RequiredCapabilities", RequiredCapabilitiesExtension
);
kind!(
    /// `Credential` (RFC 9420 §5.3).
    CredentialKind, MlsCredential, "Credential", Credential,
    |p| serde_json::json!({
        "credential_type": u16::from(p.credential_type()),
        "content": String::from_utf8_lossy(p.serialized_content()),
    })
);
kind!(
    /// `ExternalSender` (RFC 9420 §12.1.8.1).
    ExternalSenderKind, MlsExternalSender, "ExternalSender", ExternalSender
);
kind!(
    /// The ratchet tree, `optional<Node> ratchet_tree<V>` (RFC 9420 §12.4.3.3).
    RatchetTreeKind, MlsRatchetTree, "ratchet_tree", RatchetTreeIn
);
kind!(
    /// A GroupInfo extension list, `Extension extensions<V>` (RFC 9420 §12.4.3).
    GroupInfoExtensionsKind, MlsGroupInfoExtensions, "Extension<V>", Extensions<GroupInfo>
);

/// Reads an RFC 9420 §2.1.2 variable-length vector header at `at`, returning the
/// position just past the vector's content.
fn skip_varint_vector(b: &[u8], at: usize) -> Option<usize> {
    let first = *b.get(at)?;
    let (prefix, mut len) = match first >> 6 {
        0 => (1, usize::from(first & 0x3f)),
        1 => (2, usize::from(first & 0x3f)),
        2 => (4, usize::from(first & 0x3f)),
        _ => return None,
    };
    for i in 1..prefix {
        len = (len << 8) | usize::from(*b.get(at + i)?);
    }
    let end = at.checked_add(prefix)?.checked_add(len)?;
    (end <= b.len()).then_some(end)
}

/// The framing header of an `MLSMessage` read straight from its bytes (RFC 9420 §6,
/// §6.2, §6.3): `(wire_format, content_type)`; the content type only for
/// PublicMessage / PrivateMessage. `None` when the bytes do not have the expected
/// shape, in which case the callers fall back to a full openmls parse.
fn message_header(b: &[u8]) -> Option<(WireFormat, Option<ContentType>)> {
    // ProtocolVersion version (u16), WireFormat wire_format (u16).
    let wf = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
    let content_type = |code: u8| match code {
        1 => Some(ContentType::Application),
        2 => Some(ContentType::Proposal),
        3 => Some(ContentType::Commit),
        _ => None,
    };
    match wf {
        1 => {
            // PublicMessage: FramedContent { group_id<V>, epoch u64, sender, authenticated_data<V>, content_type u8 … }
            let mut at = skip_varint_vector(b, 4)? + 8;
            at += match *b.get(at)? {
                1 | 2 => 5, // member(leaf_index u32) / external(sender_index u32)
                3 | 4 => 1, // new_member_proposal / new_member_commit
                _ => return None,
            };
            let at = skip_varint_vector(b, at)?;
            Some((WireFormat::PublicMessage, Some(content_type(*b.get(at)?)?)))
        }
        2 => {
            // PrivateMessage { group_id<V>, epoch u64, content_type u8 … }
            let at = skip_varint_vector(b, 4)? + 8;
            Some((WireFormat::PrivateMessage, Some(content_type(*b.get(at)?)?)))
        }
        3 => Some((WireFormat::Welcome, None)),
        4 => Some((WireFormat::GroupInfo, None)),
        5 => Some((WireFormat::KeyPackage, None)),
        _ => None,
    }
}

/// The clear header of a PrivateMessage `MLSMessage` (RFC 9420 §6.3): `group_id`,
/// `epoch` and `content_type`, read in place; `None` if the bytes are not one.
fn private_header(b: &[u8]) -> Option<(&[u8], u64, ContentType)> {
    if b.get(2..4)? != [0, 2] {
        return None;
    }
    let end = skip_varint_vector(b, 4)?;
    let prefix = 1usize << (b.get(4)? >> 6);
    let group_id = b.get(4 + prefix..end)?;
    let epoch = u64::from_be_bytes(b.get(end..end + 8)?.try_into().ok()?);
    match message_header(b)? {
        (WireFormat::PrivateMessage, Some(c)) => Some((group_id, epoch, c)),
        _ => None,
    }
}

impl MlsMessage {
    /// The clear header of a PrivateMessage: `(group_id, epoch, content_type)` read from
    /// the (validated) bytes in place; `None` for any other message.
    pub fn private_message_header(&self) -> Option<(&[u8], u64, ContentType)> {
        private_header(self.as_bytes())
    }

    /// The wire format (RFC 9420 §6). The bytes were validated by openmls on
    /// construction, so the header is read in place rather than re-parsing the whole
    /// message; anything unexpected falls back to [`Self::wire_format_slow`].
    pub fn wire_format(&self) -> Option<WireFormat> {
        match message_header(self.as_bytes()) {
            Some((w, _)) => Some(w),
            None => self.wire_format_slow(),
        }
    }
    /// The content type for PublicMessage / PrivateMessage framing (header read in
    /// place, see [`Self::wire_format`]).
    pub fn content_type(&self) -> Option<ContentType> {
        match message_header(self.as_bytes()) {
            Some((_, c)) => c,
            None => self.content_type_slow(),
        }
    }
    /// Both [`Self::wire_format`] and [`Self::content_type`] from one header read.
    pub fn framing(&self) -> (Option<WireFormat>, Option<ContentType>) {
        match message_header(self.as_bytes()) {
            Some((w, c)) => (Some(w), c),
            None => (self.wire_format_slow(), self.content_type_slow()),
        }
    }
    /// The wire format from a full openmls parse (the reference for the fast path).
    pub fn wire_format_slow(&self) -> Option<WireFormat> {
        self.parse().ok().map(|m| m.wire_format())
    }
    /// The content type from a full openmls parse (the reference for the fast path).
    pub fn content_type_slow(&self) -> Option<ContentType> {
        match self.parse().ok()?.extract() {
            MlsMessageBodyIn::PublicMessage(p) => Some(p.content_type()),
            MlsMessageBodyIn::PrivateMessage(p) => Some(p.content_type()),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Primitive MLS aliases, kept as native types.

/// `CipherSuite` (RFC 9420 §17.1): a uint16 code point, kept raw so that a suite openmls
/// does not know still decodes; [`CipherSuite::to_openmls`] converts.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    tls_codec::TlsSerialize,
    tls_codec::TlsDeserialize,
    tls_codec::TlsSize,
)]
#[serde(transparent)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    /// The openmls ciphersuite, if openmls knows it.
    pub fn to_openmls(self) -> Option<Ciphersuite> {
        Ciphersuite::try_from(self.0).ok()
    }
}
impl From<Ciphersuite> for CipherSuite {
    fn from(c: Ciphersuite) -> Self {
        Self(u16::from(c))
    }
}
impl WireDecode for CipherSuite {
    const NAME: &'static str = "CipherSuite";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Self(u16::decode(r)?))
    }
}

macro_rules! opaque_newtype {
    ($(#[$m:meta])* $name:ident, $wname:literal) => {
        $(#[$m])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, Default, Serialize,
            tls_codec::TlsSerialize, tls_codec::TlsDeserialize, tls_codec::TlsSize,
        )]
        #[serde(transparent)]
        pub struct $name(pub Opaque);
        impl WireDecode for $name {
            const NAME: &'static str = $wname;
            fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
                Ok(Self(Opaque::decode(r)?))
            }
        }
        impl From<Vec<u8>> for $name {
            fn from(v: Vec<u8>) -> Self {
                Self(Opaque::new(v))
            }
        }
    };
}

opaque_newtype!(
    /// `SignaturePublicKey` (RFC 9420 §5.1.2): `opaque signature_key<V>`.
    SignaturePublicKey,
    "SignaturePublicKey"
);
opaque_newtype!(
    /// `HPKEPublicKey` (RFC 9420 §5.1.1): `opaque HPKEPublicKey<V>`.
    HpkePublicKey,
    "HPKEPublicKey"
);
opaque_newtype!(
    /// `ProposalRef` (RFC 9420 §5.2): a `RefHash`, `opaque<V>`.
    ProposalRef,
    "ProposalRef"
);

impl SignaturePublicKey {
    /// As an openmls signature public key.
    pub fn to_openmls(&self) -> openmls::prelude::SignaturePublicKey {
        openmls::prelude::SignaturePublicKey::from(self.0.as_slice().to_vec())
    }
}

impl ProposalRef {
    /// As an openmls proposal reference.
    pub fn to_openmls(
        &self,
    ) -> Result<openmls::ciphersuite::hash_ref::ProposalRef, tls_codec::Error> {
        let bytes = self.0.tls_serialize_detached()?;
        openmls::ciphersuite::hash_ref::ProposalRef::tls_deserialize_exact(bytes)
    }
}

wire_struct! {
    /// `HPKECiphertext` (RFC 9420 §5.1.3 / §12.4.3.1).
    pub struct HpkeCiphertext = "HPKECiphertext" {
        /// `opaque kem_output<V>`.
        pub kem_output: Opaque => "kem_output",
        /// `opaque ciphertext<V>`.
        pub ciphertext: Opaque => "ciphertext",
    }
}

// ---------------------------------------------------------------------------
// draft-ietf-mls-extensions: components, AppDataDictionary, AppDataUpdate, SafeAAD.

/// `ComponentID` (mls-extensions; uint16 as openmls implements it).
pub type ComponentId = u16;

wire_struct! {
    /// `ComponentData` (mls-extensions).
    pub struct ComponentData = "ComponentData" {
        /// `ComponentID component_id`.
        pub component_id: u16 => "component_id",
        /// `opaque data<V>`.
        pub data: Opaque => "data",
    }
}

/// `AppDataDictionary` (mls-extensions): `ComponentData component_data<V>`, sorted by
/// `component_id` with each id at most once (checked on decode and on encode).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AppDataDictionary {
    /// The entries.
    pub component_data: Vec<ComponentData>,
}

fn check_order(ids: impl Iterator<Item = u16>) -> Result<(), WireErrorKind> {
    let mut prev: Option<u16> = None;
    for id in ids {
        if let Some(p) = prev {
            if id <= p {
                return Err(WireErrorKind::ComponentOrder {
                    previous: p,
                    next: id,
                });
            }
        }
        prev = Some(id);
    }
    Ok(())
}

impl AppDataDictionary {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        check_order(self.component_data.iter().map(|c| c.component_id))
            .map_err(|e| tls_codec::Error::EncodingError(e.to_string()))?;
        put(out, &self.component_data)
    }
}
impl WireDecode for AppDataDictionary {
    const NAME: &'static str = "AppDataDictionary";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let component_data =
            Vec::<ComponentData>::decode(r).map_err(|e| e.field("component_data"))?;
        check_order(component_data.iter().map(|c| c.component_id))
            .map_err(|k| WireError::new(at, k).field("component_data"))?;
        Ok(Self { component_data })
    }
}
tls_via_wire!(AppDataDictionary);

wire_enum! {
    /// `AppDataUpdateOperation` (mls-extensions).
    pub enum AppDataUpdateOperation: u8 = "AppDataUpdateOperation" {
        /// `invalid(0)`.
        Invalid = 0 => "invalid",
        /// `update(1)`.
        Update = 1 => "update",
        /// `remove(2)`.
        Remove = 2 => "remove",
    }
}

/// `AppDataUpdate` (mls-extensions): the proposal body carrying a component update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppDataUpdate {
    /// `ComponentID component_id`.
    pub component_id: u16,
    /// The operation and its payload.
    #[serde(flatten)]
    pub op: AppDataOp,
}

/// The `select (AppDataUpdate.op)` of [`AppDataUpdate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op")]
pub enum AppDataOp {
    /// `update(1)`: `opaque update<V>`.
    #[serde(rename = "update")]
    Update {
        /// The new data / diff.
        update: Opaque,
    },
    /// `remove(2)`: empty.
    #[serde(rename = "remove")]
    Remove,
}

impl AppDataUpdate {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        put(out, &self.component_id)?;
        match &self.op {
            AppDataOp::Update { update } => {
                put(out, &AppDataUpdateOperation::Update)?;
                put(out, update)
            }
            AppDataOp::Remove => put(out, &AppDataUpdateOperation::Remove),
        }
    }
}
impl WireDecode for AppDataUpdate {
    const NAME: &'static str = "AppDataUpdate";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let component_id = u16::decode(r).map_err(|e| e.field("component_id"))?;
        let at = r.pos();
        let op = match AppDataUpdateOperation::decode(r).map_err(|e| e.field("op"))? {
            AppDataUpdateOperation::Update => AppDataOp::Update {
                update: Opaque::decode(r).map_err(|e| e.field("update"))?,
            },
            AppDataUpdateOperation::Remove => AppDataOp::Remove,
            AppDataUpdateOperation::Invalid => {
                return Err(WireError::new(
                    at,
                    WireErrorKind::NoSelectCase {
                        enum_name: "AppDataUpdateOperation",
                        value: 0,
                    },
                )
                .field("op"))
            }
        };
        Ok(Self { component_id, op })
    }
}
tls_via_wire!(AppDataUpdate);

wire_struct! {
    /// `SafeAADItem` (mls-extensions).
    pub struct SafeAadItem = "SafeAADItem" {
        /// `ComponentID component_id`.
        pub component_id: u16 => "component_id",
        /// `opaque aad_item_data<V>`.
        pub aad_item_data: Opaque => "aad_item_data",
    }
}

/// `SafeAAD` (mls-extensions): `SafeAADItem aad_items<V>`, sorted by component id, unique.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SafeAad {
    /// The items.
    pub aad_items: Vec<SafeAadItem>,
}

impl SafeAad {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        check_order(self.aad_items.iter().map(|c| c.component_id))
            .map_err(|e| tls_codec::Error::EncodingError(e.to_string()))?;
        put(out, &self.aad_items)
    }
}
impl WireDecode for SafeAad {
    const NAME: &'static str = "SafeAAD";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let aad_items = Vec::<SafeAadItem>::decode(r).map_err(|e| e.field("aad_items"))?;
        check_order(aad_items.iter().map(|c| c.component_id))
            .map_err(|k| WireError::new(at, k).field("aad_items"))?;
        Ok(Self { aad_items })
    }
}
tls_via_wire!(SafeAad);

wire_struct! {
    /// `ComponentsList` (mls-extensions): the data of the `app_components` and `safe_aad`
    /// components, listing supported / required component ids.
    pub struct ComponentsList = "ComponentsList" {
        /// `ComponentID component_ids<V>`.
        pub component_ids: Vec<u16> => "component_ids",
    }
}

#[cfg(test)]
mod header_tests {
    use super::{message_header, MlsMessage};
    use openmls::prelude::*;
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;

    const CS: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

    fn ser<T: tls_codec::Serialize>(v: &T) -> Vec<u8> {
        v.tls_serialize_detached().unwrap()
    }

    fn identity(name: &str, p: &OpenMlsRustCrypto) -> (CredentialWithKey, SignatureKeyPair) {
        let signer = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
        signer.store(p.storage()).unwrap();
        let credential = BasicCredential::new(format!("mimi://a.example/d/{name}/x").into_bytes());
        (
            CredentialWithKey {
                credential: credential.into(),
                signature_key: signer.public().into(),
            },
            signer,
        )
    }

    /// One MLSMessage of every framing the hub meets, made by openmls.
    fn messages() -> Vec<Vec<u8>> {
        let p = OpenMlsRustCrypto::default();
        let (acwk, asig) = identity("alice", &p);
        let (bcwk, bsig) = identity("bob", &p);
        let bob_kp = KeyPackage::builder()
            .build(CS, &p, &bsig, bcwk)
            .unwrap()
            .key_package()
            .clone();
        let cfg = MlsGroupCreateConfig::builder()
            .ciphersuite(CS)
            .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
            .build();
        let mut g = MlsGroup::new(&p, &asig, &cfg, acwk).unwrap();
        let mut out = Vec::new();
        let (prop, _) = g.propose_add_member(&p, &asig, &bob_kp).unwrap();
        out.push(ser(&prop));
        g.clear_pending_proposals(p.storage()).unwrap();
        let (commit, welcome, _) = g
            .add_members(&p, &asig, std::slice::from_ref(&bob_kp))
            .unwrap();
        out.push(ser(&commit));
        out.push(ser(&welcome));
        g.merge_pending_commit(&p).unwrap();
        let (upd, _) = g
            .propose_self_update(&p, &asig, LeafNodeParameters::default())
            .unwrap();
        out.push(ser(&upd));
        g.clear_pending_proposals(p.storage()).unwrap();
        let (empty, _, _) = g.commit_to_pending_proposals(&p, &asig).unwrap();
        out.push(ser(&empty));
        g.merge_pending_commit(&p).unwrap();
        out.push(ser(&g.export_group_info(p.crypto(), &asig, false).unwrap()));
        out.push(ser(&MlsMessageOut::from(bob_kp)));
        for text in [&b"hi"[..], &[7u8; 1024][..]] {
            out.push(ser(&g.create_message(&p, &asig, text).unwrap()));
        }
        out
    }

    #[test]
    fn header_read_agrees_with_the_full_parse() {
        let msgs = messages();
        let mut seen = Vec::new();
        for b in &msgs {
            let m = MlsMessage::from_bytes(b).unwrap();
            // The fast path must actually take the header (not fall back).
            let (w, c) = message_header(m.as_bytes()).expect("header readable");
            assert_eq!(Some(w), m.wire_format_slow());
            assert_eq!(c, m.content_type_slow());
            assert_eq!(m.wire_format(), m.wire_format_slow());
            assert_eq!(m.content_type(), m.content_type_slow());
            assert_eq!(m.framing(), (m.wire_format_slow(), m.content_type_slow()));
            let slow = match m.parse().unwrap().extract() {
                MlsMessageBodyIn::PrivateMessage(p) => Some((
                    p.group_id().as_slice().to_vec(),
                    p.epoch().as_u64(),
                    p.content_type(),
                )),
                _ => None,
            };
            let fast = m
                .private_message_header()
                .map(|(g, e, c)| (g.to_vec(), e, c));
            assert_eq!(fast, slow);
            seen.push((w, c));
        }
        for want in [
            (WireFormat::PublicMessage, Some(ContentType::Proposal)),
            (WireFormat::PublicMessage, Some(ContentType::Commit)),
            (WireFormat::PrivateMessage, Some(ContentType::Application)),
            (WireFormat::Welcome, None),
            (WireFormat::GroupInfo, None),
            (WireFormat::KeyPackage, None),
        ] {
            assert!(seen.contains(&want), "{want:?} covered");
        }
    }

    #[test]
    fn header_read_rejects_what_it_cannot_read() {
        assert_eq!(message_header(&[0, 1]), None);
        assert_eq!(message_header(&[0, 1, 0, 9]), None);
        // PublicMessage with a group_id longer than the bytes.
        assert_eq!(message_header(&[0, 1, 0, 1, 0x05, 1]), None);
        // PrivateMessage, empty group_id, epoch, content type 3.
        let mut pm = vec![0, 1, 0, 2, 0];
        pm.extend([0; 8]);
        pm.push(3);
        assert_eq!(
            message_header(&pm),
            Some((WireFormat::PrivateMessage, Some(ContentType::Commit)))
        );
        pm.pop();
        pm.push(9);
        assert_eq!(message_header(&pm), None);
    }
}
