//! Minimal metadata rooms (protocol-06 §6.1): pseudonymous credentials.

use super::common::{wire_struct, IdentifierUri, Opaque};
use super::mls::MlsCredential;

/// SignWithLabel label for [`PseudonymousCredentialTBS`].
pub const PSEUDONYMOUS_CREDENTIAL_TBS_LABEL: &str = "PseudonymousCredentialTBS";

wire_struct! {
    /// `PseudonymousCredential` (protocol-06 §6.1). `signature_public_key` has no length in
    /// the draft; it is read as `opaque<V>` (see `spec/deviations.md`). No credential type
    /// code point is assigned.
    pub struct PseudonymousCredential = "PseudonymousCredential" {
        /// `IdentifierUri client_pseudonym`.
        pub client_pseudonym: IdentifierUri => "client_pseudonym",
        /// `IdentifierUri user_pseudonym`.
        pub user_pseudonym: IdentifierUri => "user_pseudonym",
        /// `opaque signature_public_key<V>`.
        pub signature_public_key: Opaque => "signature_public_key",
        /// `opaque identity_link_ciphertext<V>` (key management unspecified in -06).
        pub identity_link_ciphertext: Opaque => "identity_link_ciphertext",
    }
}

wire_struct! {
    /// `PseudonymousCredentialTBS` (protocol-06 §6.1).
    pub struct PseudonymousCredentialTBS = "PseudonymousCredentialTBS" {
        /// `IdentifierUri client_pseudonym`.
        pub client_pseudonym: IdentifierUri => "client_pseudonym",
        /// `IdentifierUri user_pseudonym`.
        pub user_pseudonym: IdentifierUri => "user_pseudonym",
        /// `opaque signature_public_key<V>`.
        pub signature_public_key: Opaque => "signature_public_key",
    }
}

impl PseudonymousCredential {
    /// The to-be-signed part.
    pub fn tbs(&self) -> PseudonymousCredentialTBS {
        PseudonymousCredentialTBS {
            client_pseudonym: self.client_pseudonym.clone(),
            user_pseudonym: self.user_pseudonym.clone(),
            signature_public_key: self.signature_public_key.clone(),
        }
    }
}

wire_struct! {
    /// `IdentityLinkTBE` (protocol-06 §6.1): encrypted into `identity_link_ciphertext`.
    pub struct IdentityLinkTBE = "IdentityLinkTBE" {
        /// `opaque pseudonymous_credential_signature<V>`.
        pub pseudonymous_credential_signature: Opaque => "pseudonymous_credential_signature",
        /// `Credential client_credential`.
        pub client_credential: MlsCredential => "client_credential",
    }
}
