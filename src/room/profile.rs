//! The MLS profile every mimi-ref room uses, shared by clients and the hub.
//!
//! * Ciphersuite: the MTI suite `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519`
//!   (RFC 9420 §17.1), Ed25519 signature keys, `BasicCredential` whose identity
//!   is the client's `mimi://<domain>/d/<id>` URI.
//! * Handshake messages are `PublicMessage` so the hub can validate them
//!   (protocol-06 §5.3: the hub must read every handshake); application messages
//!   are `PrivateMessage` (protocol-06 §5.4). openmls expresses exactly this with
//!   `PURE_PLAINTEXT_WIRE_FORMAT_POLICY`: its wire-format policy governs handshake
//!   messages only, application messages are always encrypted.
//! * Every leaf supports, and the GroupContext requires (`required_capabilities`),
//!   the `app_data_dictionary` extension and the AppDataUpdate and SelfRemove
//!   proposals (mls-extensions-09 §4.6, §4.7 and its SelfRemove proposal); protocol-06
//!   does not say so explicitly (its §4.2 MLS profile is a TODO) — recorded in
//!   `spec/deviations.md` under "openmls layer".

use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::{
    Capabilities, Ciphersuite, Credential, Extension, ExtensionType, GroupId, MlsMessageBodyIn,
    MlsMessageIn, ProposalType, ProtocolMessage, RatchetTreeIn, RequiredCapabilitiesExtension,
    WireFormatPolicy, PURE_PLAINTEXT_WIRE_FORMAT_POLICY,
};
use openmls::prelude::{KeyPackage, KeyPackageVerifyError, OpenMlsCrypto, ProtocolVersion};
use thiserror::Error;
use tls_codec::Deserialize as _;

/// The ciphersuite of every mimi-ref room (the MLS MTI suite).
pub const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// The wire-format policy: handshakes as PublicMessage, application messages
/// as PrivateMessage (see the module doc).
pub const WIRE_FORMAT_POLICY: WireFormatPolicy = PURE_PLAINTEXT_WIRE_FORMAT_POLICY;

/// The leaf capabilities every mimi-ref client advertises.
pub fn leaf_capabilities() -> Capabilities {
    Capabilities::new(
        None,
        Some(&[CIPHERSUITE]),
        Some(&[ExtensionType::AppDataDictionary]),
        Some(&[ProposalType::AppDataUpdate, ProposalType::SelfRemove]),
        None,
    )
}

/// The `required_capabilities` GroupContext extension of every room.
pub fn required_capabilities() -> Extension {
    Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(
        &[ExtensionType::AppDataDictionary],
        &[ProposalType::AppDataUpdate, ProposalType::SelfRemove],
        &[],
    ))
}

/// Why bytes could not be read as the MLS object the caller expected.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// The bytes are not a TLS-encoded `MLSMessage` (RFC 9420 §6).
    #[error("not a valid MLSMessage encoding: {0}")]
    MlsMessage(#[source] tls_codec::Error),
    /// The bytes are not a TLS-encoded ratchet tree (RFC 9420 §12.4.3.3).
    #[error("not a valid ratchet tree encoding: {0}")]
    RatchetTree(#[source] tls_codec::Error),
    /// The MLSMessage has another wire format than the one expected.
    #[error("expected an MLSMessage carrying {expected}, got another wire format")]
    WrongBody {
        /// What was expected.
        expected: &'static str,
    },
}

/// Decode an `MLSMessage`.
pub fn decode_message(bytes: &[u8]) -> Result<MlsMessageIn, DecodeError> {
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(DecodeError::MlsMessage)
}

/// Decode an `MLSMessage` carrying a GroupInfo.
pub fn decode_group_info(bytes: &[u8]) -> Result<VerifiableGroupInfo, DecodeError> {
    match decode_message(bytes)?.extract() {
        MlsMessageBodyIn::GroupInfo(gi) => Ok(gi),
        _ => Err(DecodeError::WrongBody {
            expected: "a GroupInfo",
        }),
    }
}

/// Decode an `MLSMessage` carrying a PublicMessage or PrivateMessage.
pub fn decode_protocol_message(bytes: &[u8]) -> Result<ProtocolMessage, DecodeError> {
    decode_message(bytes)?
        .try_into_protocol_message()
        .map_err(|_| DecodeError::WrongBody {
            expected: "a PublicMessage or PrivateMessage",
        })
}

/// Why bytes are not an acceptable KeyPackage.
#[derive(Debug, Error)]
pub enum KeyPackageInputError {
    /// Not an `MLSMessage` carrying a KeyPackage.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The KeyPackage fails validation (RFC 9420 §10.1: signature, keys, lifetime).
    #[error("invalid KeyPackage: {0}")]
    Invalid(#[from] KeyPackageVerifyError),
    /// The KeyPackage is for another ciphersuite than the room profile's.
    #[error("KeyPackage ciphersuite is not the room profile's")]
    WrongCiphersuite,
    /// Hashing failed (internal).
    #[error("KeyPackageRef computation failed")]
    Hash,
}

/// Decode and validate a KeyPackage (`MLSMessage` bytes) with `crypto`.
pub fn decode_key_package(
    crypto: &impl OpenMlsCrypto,
    bytes: &[u8],
) -> Result<KeyPackage, KeyPackageInputError> {
    let kp_in = match decode_message(bytes)?.extract() {
        MlsMessageBodyIn::KeyPackage(kp) => kp,
        _ => {
            return Err(DecodeError::WrongBody {
                expected: "a KeyPackage",
            }
            .into())
        }
    };
    let kp = kp_in.validate(crypto, ProtocolVersion::Mls10)?;
    if kp.ciphersuite() != CIPHERSUITE {
        return Err(KeyPackageInputError::WrongCiphersuite);
    }
    Ok(kp)
}

/// The KeyPackageRef (RFC 9420 §5.2) of a KeyPackage given as `MLSMessage`
/// bytes, after validating it. The hub records KeyPackageRef → provider when
/// relaying key material and routes Welcomes by it (protocol-06 §5.2, §5.3).
pub fn key_package_ref(bytes: &[u8]) -> Result<Vec<u8>, KeyPackageInputError> {
    let crypto = openmls_rust_crypto::RustCrypto::default();
    let kp = decode_key_package(&crypto, bytes)?;
    kp.hash_ref(&crypto)
        .map(|r| r.as_slice().to_vec())
        .map_err(|_| KeyPackageInputError::Hash)
}

/// Decode a TLS-encoded ratchet tree.
pub fn decode_ratchet_tree(bytes: &[u8]) -> Result<RatchetTreeIn, DecodeError> {
    RatchetTreeIn::tls_deserialize_exact(bytes).map_err(DecodeError::RatchetTree)
}

/// The identity bytes of a credential: the `BasicCredential` identity, or the
/// raw serialized content for other credential types.
///
/// Performance: openmls 0.9.2 builds a `BasicCredential` from the credential's
/// serialized content unchanged, so both cases are the serialized content; it is copied
/// directly instead of cloning the whole credential first (the hub resolves every
/// member's identity at each commit). `tests::credential_identity_matches_basic_credential`
/// checks this against the `BasicCredential` conversion.
pub fn credential_identity(credential: &Credential) -> Vec<u8> {
    credential.serialized_content().to_vec()
}

/// Build a `GroupId` from bytes (the room's `mimi://…/g/…` URI, protocol-06 §4).
pub fn group_id(bytes: &[u8]) -> GroupId {
    GroupId::from_slice(bytes)
}

/// The RFC 9420 §5.1.2 `SignContent` for `label` and `content`: what
/// `SignWithLabel` signs (`"MLS 1.0 " + label`, both as `opaque<V>`). Used for
/// the signed requests of protocol-06 §5.2 and §5.6.
pub fn sign_content(label: &str, content: &[u8]) -> Vec<u8> {
    fn vl(out: &mut Vec<u8>, data: &[u8]) {
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
    let mut out = Vec::with_capacity(content.len() + label.len() + 16);
    vl(&mut out, format!("MLS 1.0 {label}").as_bytes());
    vl(&mut out, content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmls::prelude::BasicCredential;

    /// The slow path `credential_identity` replaced: convert to a `BasicCredential`
    /// and take its identity, else the raw serialized content.
    fn identity_via_basic(credential: &Credential) -> Vec<u8> {
        match BasicCredential::try_from(credential.clone()) {
            Ok(basic) => basic.identity().to_vec(),
            Err(_) => credential.serialized_content().to_vec(),
        }
    }

    #[test]
    fn credential_identity_matches_basic_credential() {
        let mut credentials: Vec<Credential> = [
            &b"mimi://a.example/d/alice/1"[..],
            b"",
            b"\xff\x00\x01",
            &[7u8; 300][..],
        ]
        .iter()
        .map(|id| BasicCredential::new(id.to_vec()).into())
        .collect();
        credentials.push(Credential::new(
            openmls::prelude::CredentialType::X509,
            b"not a basic credential".to_vec(),
        ));
        credentials.push(Credential::new(
            openmls::prelude::CredentialType::Other(0xf000),
            vec![1, 2, 3],
        ));
        for c in &credentials {
            assert_eq!(credential_identity(c), identity_via_basic(c), "{c:?}");
        }
        assert_eq!(
            credential_identity(&credentials[0]),
            b"mimi://a.example/d/alice/1".to_vec()
        );
    }
}
