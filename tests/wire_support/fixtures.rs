//! Real MLS objects made once with openmls + openmls_rust_crypto, for the strategies.

use std::sync::OnceLock;

use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;

/// Serialized MLS objects, each as openmls produced it.
pub struct Fixtures {
    /// Bare KeyPackages.
    pub key_packages: Vec<Vec<u8>>,
    /// MLSMessage PublicMessage commits.
    pub commits: Vec<Vec<u8>>,
    /// MLSMessage PublicMessage proposals.
    pub proposals: Vec<Vec<u8>>,
    /// MLSMessage PrivateMessage application messages.
    pub app_messages: Vec<Vec<u8>>,
    /// MLSMessage welcomes.
    pub welcome_messages: Vec<Vec<u8>>,
    /// Bare Welcomes.
    pub welcomes: Vec<Vec<u8>>,
    /// Bare GroupInfos.
    pub group_infos: Vec<Vec<u8>>,
    /// MLSMessage GroupInfos.
    pub group_info_messages: Vec<Vec<u8>>,
    /// Ratchet trees (`optional<Node> ratchet_tree<V>`).
    pub trees: Vec<Vec<u8>>,
    /// Credentials.
    pub credentials: Vec<Vec<u8>>,
    /// Capabilities.
    pub capabilities: Vec<Vec<u8>>,
    /// RequiredCapabilities.
    pub required_capabilities: Vec<Vec<u8>>,
    /// ExternalSenders.
    pub external_senders: Vec<Vec<u8>>,
    /// GroupInfo extension lists.
    pub gi_extensions: Vec<Vec<u8>>,
    /// Signature public keys (raw).
    pub signature_keys: Vec<Vec<u8>>,
}

const CS: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

fn ser<T: tls_codec::Serialize>(v: &T) -> Vec<u8> {
    v.tls_serialize_detached().expect("serialize")
}

fn strip_mls_header(b: Vec<u8>) -> Vec<u8> {
    // MLSMessage = ProtocolVersion (u16) + WireFormat (u16) + body.
    b[4..].to_vec()
}

fn identity(name: &str, provider: &OpenMlsRustCrypto) -> (CredentialWithKey, SignatureKeyPair) {
    let signer = SignatureKeyPair::new(CS.signature_algorithm()).expect("keypair");
    signer.store(provider.storage()).expect("store");
    let credential = BasicCredential::new(format!("mimi://example.com/u/{name}").into_bytes());
    (
        CredentialWithKey {
            credential: credential.into(),
            signature_key: signer.public().into(),
        },
        signer,
    )
}

fn key_package(
    name: &str,
    provider: &OpenMlsRustCrypto,
) -> (KeyPackage, CredentialWithKey, SignatureKeyPair) {
    let (cwk, signer) = identity(name, provider);
    let kpb = KeyPackage::builder()
        .build(CS, provider, &signer, cwk.clone())
        .expect("key package");
    (kpb.key_package().clone(), cwk, signer)
}

fn build() -> Fixtures {
    let provider = OpenMlsRustCrypto::default();
    let (alice_cwk, alice_signer) = identity("alice", &provider);
    let (bob_kp, _, _) = key_package("bob", &provider);
    let (carol_kp, _, _) = key_package("carol", &provider);
    let (dave_kp, dave_cwk, _) = key_package("dave", &provider);

    let cfg = MlsGroupCreateConfig::builder()
        .ciphersuite(CS)
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(false)
        .build();
    let mut alice =
        MlsGroup::new(&provider, &alice_signer, &cfg, alice_cwk.clone()).expect("group");

    let mut f = Fixtures {
        key_packages: vec![ser(&bob_kp), ser(&carol_kp), ser(&dave_kp)],
        commits: vec![],
        proposals: vec![],
        app_messages: vec![],
        welcome_messages: vec![],
        welcomes: vec![],
        group_infos: vec![],
        group_info_messages: vec![],
        trees: vec![],
        credentials: vec![ser(&alice_cwk.credential), ser(&dave_cwk.credential)],
        capabilities: vec![],
        required_capabilities: vec![],
        external_senders: vec![],
        gi_extensions: vec![],
        signature_keys: vec![
            alice_cwk.signature_key.as_slice().to_vec(),
            dave_cwk.signature_key.as_slice().to_vec(),
        ],
    };

    // A proposal (Add carol) as PublicMessage.
    let (prop, _) = alice
        .propose_add_member(&provider, &alice_signer, &carol_kp)
        .expect("propose add");
    f.proposals.push(ser(&prop));
    alice
        .clear_pending_proposals(provider.storage())
        .expect("clear");

    // A commit adding bob, with its Welcome.
    let (commit, welcome, _gi) = alice
        .add_members(&provider, &alice_signer, &[bob_kp])
        .expect("add bob");
    f.commits.push(ser(&commit));
    let wb = ser(&welcome);
    f.welcomes.push(strip_mls_header(wb.clone()));
    f.welcome_messages.push(wb);
    alice.merge_pending_commit(&provider).expect("merge");

    // Another proposal (remove bob) and a second commit (add carol + dave).
    let (prop2, _) = alice
        .propose_remove_member(&provider, &alice_signer, LeafNodeIndex::new(1))
        .expect("propose remove");
    f.proposals.push(ser(&prop2));
    alice
        .clear_pending_proposals(provider.storage())
        .expect("clear");
    let (commit2, welcome2, _) = alice
        .add_members(&provider, &alice_signer, &[carol_kp, dave_kp])
        .expect("add carol, dave");
    f.commits.push(ser(&commit2));
    let wb2 = ser(&welcome2);
    f.welcomes.push(strip_mls_header(wb2.clone()));
    f.welcome_messages.push(wb2);
    alice.merge_pending_commit(&provider).expect("merge");

    // GroupInfo, tree.
    let gim = alice
        .export_group_info(provider.crypto(), &alice_signer, false)
        .expect("group info");
    let gimb = ser(&gim);
    f.group_infos.push(strip_mls_header(gimb.clone()));
    f.group_info_messages.push(gimb);
    f.trees.push(ser(&alice.export_ratchet_tree()));

    // Application messages (always PrivateMessage).
    for text in [&b"hello"[..], &b""[..], &[7u8; 100][..]] {
        let m = alice
            .create_message(&provider, &alice_signer, text)
            .expect("app message");
        f.app_messages.push(ser(&m));
    }

    f.capabilities.push(ser(&Capabilities::default()));
    f.capabilities.push(ser(&Capabilities::new(
        None,
        Some(&[CS]),
        Some(&[ExtensionType::ExternalSenders]),
        Some(&[ProposalType::SelfRemove]),
        None,
    )));
    f.required_capabilities
        .push(ser(&RequiredCapabilitiesExtension::new(&[], &[], &[])));
    f.required_capabilities
        .push(ser(&RequiredCapabilitiesExtension::new(
            &[ExtensionType::ExternalSenders],
            &[ProposalType::SelfRemove],
            &[CredentialType::Basic],
        )));
    let ext_sender = ExternalSender::new(
        alice_cwk.signature_key.clone(),
        alice_cwk.credential.clone(),
    );
    f.external_senders.push(ser(&ext_sender));
    f.external_senders.push(ser(&ExternalSender::new(
        dave_cwk.signature_key.clone(),
        dave_cwk.credential.clone(),
    )));
    f.gi_extensions.push(ser(
        &Extensions::<openmls::messages::group_info::GroupInfo>::empty(),
    ));
    f.gi_extensions.push(ser(
        &Extensions::<openmls::messages::group_info::GroupInfo>::single(Extension::Unknown(
            0xff00,
            UnknownExtension(vec![1, 2, 3]),
        ))
        .expect("extensions"),
    ));
    f
}

/// The fixtures (built on first use).
pub fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(build)
}
