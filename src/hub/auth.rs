//! Request signatures of protocol-06 §5.2 (`KeyMaterialRequest`) and §5.6
//! (`GroupInfoRequest`): RFC 9420 §5.1.2 `SignWithLabel` over the request's
//! TBS struct, checked against the signature key in the request, and the
//! requester's credential tied to the user it claims to be.

use openmls_traits::crypto::OpenMlsCrypto;
use thiserror::Error;

use crate::room::mimi::user_of_client;
pub use crate::room::profile::sign_content;
use crate::room::profile::{credential_identity, CIPHERSUITE};
use crate::wire::common::encode;
use crate::wire::group_info::GROUP_INFO_REQUEST_TBS_LABEL;
use crate::wire::key_material::KEY_MATERIAL_REQUEST_TBS_LABEL;
use crate::wire::{GroupInfoRequest, KeyMaterialRequest};

/// Why a signed request was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The signature does not verify under the request's signature key (RFC 9420 §5.1.2).
    #[error("auth.bad-signature: {0} signature does not verify")]
    BadSignature(&'static str),
    /// The credential is not a client of the user the request names.
    #[error("auth.user-mismatch: credential {credential} is not a client of {claimed}")]
    UserMismatch {
        /// The credential identity.
        credential: String,
        /// The user named in the request.
        claimed: String,
    },
    /// The credential or TBS could not be read.
    #[error("auth.decode: {0}")]
    Decode(String),
}

fn verify(label: &'static str, tbs: &[u8], key: &[u8], signature: &[u8]) -> Result<(), AuthError> {
    let crypto = openmls_rust_crypto::RustCrypto::default();
    crypto
        .verify_signature(
            CIPHERSUITE.signature_algorithm(),
            &sign_content(label, tbs),
            key,
            signature,
        )
        .map_err(|_| AuthError::BadSignature(label))
}

/// The client identity of a request's credential, checked to be a client of `user`.
fn credential_of(
    credential: &crate::wire::mls::MlsCredential,
    user: &str,
) -> Result<Vec<u8>, AuthError> {
    let c = credential
        .parse()
        .map_err(|e| AuthError::Decode(e.to_string()))?;
    let identity = credential_identity(&c);
    let owner = user_of_client(&identity).map_err(|e| AuthError::Decode(e.rule))?;
    if owner != user {
        return Err(AuthError::UserMismatch {
            credential: String::from_utf8_lossy(&identity).into_owned(),
            claimed: user.to_owned(),
        });
    }
    Ok(identity)
}

/// Check a `KeyMaterialRequest`: its signature, and that the requester's
/// credential is a client of `requestingUser` (protocol-06 §5.2).
pub fn verify_key_material_request(req: &KeyMaterialRequest) -> Result<(), AuthError> {
    let tbs = encode(&req.tbs()).map_err(|e| AuthError::Decode(e.to_string()))?;
    verify(
        KEY_MATERIAL_REQUEST_TBS_LABEL,
        &tbs,
        req.requester_signature_key.0.as_slice(),
        req.key_material_request_signature.as_slice(),
    )?;
    credential_of(
        &req.requester_credential,
        req.requesting_user.uri.as_str().unwrap_or_default(),
    )
    .map(|_| ())
}

/// Check a `GroupInfoRequest` signature (protocol-06 §5.6) and return the
/// requester's credential identity.
pub fn verify_group_info_request(req: &GroupInfoRequest) -> Result<Vec<u8>, AuthError> {
    let tbs = encode(&req.tbs()).map_err(|e| AuthError::Decode(e.to_string()))?;
    verify(
        GROUP_INFO_REQUEST_TBS_LABEL,
        &tbs,
        req.requesting_signature_key.0.as_slice(),
        req.signature.as_slice(),
    )?;
    let c = req
        .requesting_credential
        .parse()
        .map_err(|e| AuthError::Decode(e.to_string()))?;
    Ok(credential_identity(&c))
}

/// RFC 9420 §5.1.3 `EncryptContext` for `EncryptWithLabel(…, label, context, …)`.
pub fn encrypt_context(label: &str, context: &[u8]) -> Vec<u8> {
    // SignContent and EncryptContext have the same shape.
    sign_content(label, context)
}

/// Open a `GroupInfoResponse` (protocol-06 §5.6): check the hub's signature
/// over `GroupInfoResponseTBS` with the `hub_sender` key, then decrypt
/// `GroupInfoRatchetTreeTBE` with the requester's HPKE private key.
pub fn open_group_info_response(
    response: &crate::wire::GroupInfoResponse,
    hpke_private_key: &[u8],
) -> Result<crate::wire::GroupInfoRatchetTreeTBE, AuthError> {
    use crate::wire::common::{decode_exact, Reader, WireDecode};
    use crate::wire::group_info::{GROUP_INFO_ENCRYPTION_LABEL, GROUP_INFO_RESPONSE_TBS_LABEL};
    use crate::wire::GroupInfoStatus;
    let GroupInfoStatus::Success {
        hub_sender,
        encrypted_groupinfo_and_tree,
        signature,
        ..
    } = &response.status
    else {
        return Err(AuthError::Decode(
            "not a successful GroupInfoResponse".into(),
        ));
    };
    let tbs = response
        .tbs()
        .ok_or_else(|| AuthError::Decode("no TBS".into()))
        .and_then(|t| encode(&t).map_err(|e| AuthError::Decode(e.to_string())))?;
    // ExternalSender = SignaturePublicKey signature_key; Credential credential.
    let key = crate::wire::mls::SignaturePublicKey::decode(&mut Reader::from_slice(
        hub_sender.as_bytes(),
    ))
    .map_err(|e| AuthError::Decode(e.to_string()))?;
    verify(
        GROUP_INFO_RESPONSE_TBS_LABEL,
        &tbs,
        key.0.as_slice(),
        signature.as_slice(),
    )?;
    let crypto = openmls_rust_crypto::RustCrypto::default();
    let ct = openmls_traits::types::HpkeCiphertext {
        kem_output: encrypted_groupinfo_and_tree
            .kem_output
            .as_slice()
            .to_vec()
            .into(),
        ciphertext: encrypted_groupinfo_and_tree
            .ciphertext
            .as_slice()
            .to_vec()
            .into(),
    };
    let pt = crypto
        .hpke_open(
            CIPHERSUITE.hpke_config(),
            &ct,
            hpke_private_key,
            &encrypt_context(GROUP_INFO_ENCRYPTION_LABEL, response.room_id.as_slice()),
            &[],
        )
        .map_err(|_| AuthError::BadSignature("GroupInfo encryption"))?;
    decode_exact(&pt).map_err(|e| AuthError::Decode(e.to_string()))
}
