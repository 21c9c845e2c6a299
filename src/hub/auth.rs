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
