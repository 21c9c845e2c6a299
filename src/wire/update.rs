//! Update room state (protocol-06 §5.3) and the ratchet-tree / GroupInfo options it uses
//! (draft-mahy-mls-ratchet-tree-options).

use openmls::prelude::{ContentType, WireFormat};
use serde::Serialize;

use super::common::{
    put, tls_via_wire, wire_enum, wire_struct, Opaque, Protocol, Reader, WireDecode, WireError,
    WireErrorKind, WireString,
};
use super::mls::{
    MlsGroupInfo, MlsGroupInfoExtensions, MlsMessage, MlsRatchetTree, MlsWelcome, ProposalRef,
};

fn enc_err(msg: &str) -> tls_codec::Error {
    tls_codec::Error::EncodingError(msg.to_owned())
}

/// The content type of a handshake message carried in a PublicMessage, or a typed error.
/// protocol-06 §5.3: handshakes travel as PublicMessage or SemiPrivateMessage; openmls
/// 0.9.2 has no SemiPrivateMessage (its wire format is still TBD), so only PublicMessage
/// decodes (see `spec/deviations.md`).
pub(crate) fn handshake_content_type(m: &MlsMessage, at: usize) -> Result<ContentType, WireError> {
    let (wire_format, content_type) = m.framing();
    match wire_format {
        Some(WireFormat::PublicMessage) => {}
        other => {
            return Err(WireError::new(
                at,
                WireErrorKind::MlsMessageNotAllowed(format!(
                    "handshake must be a PublicMessage, found {other:?}"
                )),
            ))
        }
    }
    match content_type {
        Some(c @ (ContentType::Proposal | ContentType::Commit)) => Ok(c),
        other => Err(WireError::new(
            at,
            WireErrorKind::MlsMessageNotAllowed(format!(
                "handshake must carry a proposal or commit, found {other:?}"
            )),
        )),
    }
}

/// Decodes `MLSMessage list<V>` whose elements must all be handshake proposals.
pub(crate) fn decode_proposal_list(r: &mut Reader<'_>) -> Result<Vec<MlsMessage>, WireError> {
    let len = r.vl_len()?;
    r.vector(len, |r| {
        let at = r.pos();
        let m = MlsMessage::decode(r)?;
        match handshake_content_type(&m, at)? {
            ContentType::Proposal => Ok(m),
            c => Err(WireError::new(
                at,
                WireErrorKind::MlsMessageNotAllowed(format!("expected a proposal, found {c:?}")),
            )),
        }
    })
}

pub(crate) fn check_proposals(list: &[MlsMessage]) -> Result<(), tls_codec::Error> {
    for m in list {
        if m.framing() != (Some(WireFormat::PublicMessage), Some(ContentType::Proposal)) {
            return Err(enc_err(
                "proposal list holds a message that is not a PublicMessage proposal",
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------

wire_enum! {
    /// `RatchetTreeRepresentation` (draft-mahy-mls-ratchet-tree-options).
    pub enum RatchetTreeRepresentation: u8 = "RatchetTreeRepresentation" {
        /// `reserved(0)`.
        Reserved = 0 => "reserved",
        /// `full(1)`.
        Full = 1 => "full",
        /// `httpsUri(2)` (the case label says `httpsUrl`).
        HttpsUri = 2 => "httpsUri",
        /// `outOfBand(3)`.
        OutOfBand = 3 => "outOfBand",
        /// `distributionService(4)`.
        DistributionService = 4 => "distributionService",
    }
}

/// `RatchetTreeOption` (draft-mahy-mls-ratchet-tree-options).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "representation")]
pub enum RatchetTreeOption {
    /// `full`: the whole tree, `optional<Node> ratchet_tree<V>`.
    #[serde(rename = "full")]
    Full {
        /// The tree.
        ratchet_tree: MlsRatchetTree,
    },
    /// `httpsUri`: where to fetch it, and its signature.
    #[serde(rename = "httpsUri")]
    HttpsUri {
        /// `opaque ratchet_tree_url<V>`.
        ratchet_tree_url: Opaque,
        /// `opaque tree_signature<V>`.
        tree_signature: Opaque,
    },
    /// `outOfBand`: the signature only.
    #[serde(rename = "outOfBand")]
    OutOfBand {
        /// `opaque tree_signature<V>`.
        tree_signature: Opaque,
    },
    /// `distributionService`: the hub rebuilds the tree.
    #[serde(rename = "distributionService")]
    DistributionService,
}

impl RatchetTreeOption {
    /// The representation code.
    pub fn representation(&self) -> RatchetTreeRepresentation {
        match self {
            Self::Full { .. } => RatchetTreeRepresentation::Full,
            Self::HttpsUri { .. } => RatchetTreeRepresentation::HttpsUri,
            Self::OutOfBand { .. } => RatchetTreeRepresentation::OutOfBand,
            Self::DistributionService => RatchetTreeRepresentation::DistributionService,
        }
    }
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        put(out, &self.representation())?;
        match self {
            Self::Full { ratchet_tree } => put(out, ratchet_tree),
            Self::HttpsUri {
                ratchet_tree_url,
                tree_signature,
            } => {
                put(out, ratchet_tree_url)?;
                put(out, tree_signature)
            }
            Self::OutOfBand { tree_signature } => put(out, tree_signature),
            Self::DistributionService => Ok(()),
        }
    }
}
impl WireDecode for RatchetTreeOption {
    const NAME: &'static str = "RatchetTreeOption";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let rep = RatchetTreeRepresentation::decode(r).map_err(|e| e.field("representation"))?;
        Ok(match rep {
            RatchetTreeRepresentation::Reserved => {
                return Err(WireError::new(
                    at,
                    WireErrorKind::NoSelectCase {
                        enum_name: "RatchetTreeRepresentation",
                        value: 0,
                    },
                )
                .field("representation"))
            }
            RatchetTreeRepresentation::Full => Self::Full {
                ratchet_tree: MlsRatchetTree::decode(r).map_err(|e| e.field("ratchet_tree"))?,
            },
            RatchetTreeRepresentation::HttpsUri => Self::HttpsUri {
                ratchet_tree_url: Opaque::decode(r).map_err(|e| e.field("ratchet_tree_url"))?,
                tree_signature: Opaque::decode(r).map_err(|e| e.field("tree_signature"))?,
            },
            RatchetTreeRepresentation::OutOfBand => Self::OutOfBand {
                tree_signature: Opaque::decode(r).map_err(|e| e.field("tree_signature"))?,
            },
            RatchetTreeRepresentation::DistributionService => Self::DistributionService,
        })
    }
}
tls_via_wire!(RatchetTreeOption);

wire_enum! {
    /// `RatchetTreePresence` (draft-mahy-mls-ratchet-tree-options).
    pub enum RatchetTreePresence: u8 = "RatchetTreePresence" {
        /// `no_ratchet_tree(0)`.
        NoRatchetTree = 0 => "no_ratchet_tree",
        /// `present(1)`.
        Present = 1 => "present",
        /// `removed(2)`.
        Removed = 2 => "removed",
        /// `added(3)`.
        Added = 3 => "added",
    }
}

wire_struct! {
    /// `PartialGroupInfo` (draft-mahy-mls-ratchet-tree-options): what the hub needs to
    /// rebuild the GroupInfo of the new epoch.
    pub struct PartialGroupInfo = "PartialGroupInfo" {
        /// `RatchetTreePresence ratchet_tree_presence`.
        pub ratchet_tree_presence: RatchetTreePresence => "ratchet_tree_presence",
        /// `Extension group_info_extensions<V>` (without ratchet_tree).
        pub group_info_extensions: MlsGroupInfoExtensions => "group_info_extensions",
        /// `opaque signature<V>`: the committer's GroupInfo signature.
        pub signature: Opaque => "signature",
    }
}

wire_enum! {
    /// `GroupInfoRepresentation` (protocol-06 §5.3).
    pub enum GroupInfoRepresentation: u8 = "GroupInfoRepresentation" {
        /// `reserved(0)`.
        Reserved = 0 => "reserved",
        /// `full(1)`.
        Full = 1 => "full",
        /// `partial(2)`.
        Partial = 2 => "partial",
    }
}

/// `GroupInfoOption` (protocol-06 §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "representation")]
pub enum GroupInfoOption {
    /// `full`: `GroupInfo groupInfo` (without ratchet_tree).
    #[serde(rename = "full")]
    Full {
        /// The GroupInfo.
        #[serde(rename = "groupInfo")]
        group_info: MlsGroupInfo,
    },
    /// `partial`: `PartialGroupInfo partialGroupInfo`.
    #[serde(rename = "partial")]
    Partial {
        /// The partial GroupInfo.
        #[serde(rename = "partialGroupInfo")]
        partial_group_info: PartialGroupInfo,
    },
}

impl GroupInfoOption {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        match self {
            Self::Full { group_info } => {
                put(out, &GroupInfoRepresentation::Full)?;
                put(out, group_info)
            }
            Self::Partial { partial_group_info } => {
                put(out, &GroupInfoRepresentation::Partial)?;
                put(out, partial_group_info)
            }
        }
    }
}
impl WireDecode for GroupInfoOption {
    const NAME: &'static str = "GroupInfoOption";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        Ok(
            match GroupInfoRepresentation::decode(r).map_err(|e| e.field("representation"))? {
                GroupInfoRepresentation::Reserved => {
                    return Err(WireError::new(
                        at,
                        WireErrorKind::NoSelectCase {
                            enum_name: "GroupInfoRepresentation",
                            value: 0,
                        },
                    )
                    .field("representation"))
                }
                GroupInfoRepresentation::Full => Self::Full {
                    group_info: MlsGroupInfo::decode(r).map_err(|e| e.field("groupInfo"))?,
                },
                GroupInfoRepresentation::Partial => Self::Partial {
                    partial_group_info: PartialGroupInfo::decode(r)
                        .map_err(|e| e.field("partialGroupInfo"))?,
                },
            },
        )
    }
}
tls_via_wire!(GroupInfoOption);

/// `HandshakeBundle` (protocol-06 §5.3). The select depends on the content type inside the
/// MLSMessage, so decoding parses the message with openmls first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandshakeBundle {
    /// `MLSMessage proposalOrCommit` (a PublicMessage proposal or commit).
    #[serde(rename = "proposalOrCommit")]
    pub proposal_or_commit: MlsMessage,
    /// The arm selected by the content type.
    #[serde(flatten)]
    pub body: HandshakeBundleBody,
}

/// The `select (proposalOrCommit.content.content_type)` arms of [`HandshakeBundle`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "content_type")]
pub enum HandshakeBundleBody {
    /// `commit`.
    #[serde(rename = "commit")]
    Commit {
        /// `optional<Welcome> welcome` (without ratchet_tree).
        welcome: Option<MlsWelcome>,
        /// `GroupInfoOption groupInfoOption`.
        #[serde(rename = "groupInfoOption")]
        group_info_option: GroupInfoOption,
        /// `RatchetTreeOption ratchetTreeOption`.
        #[serde(rename = "ratchetTreeOption")]
        ratchet_tree_option: RatchetTreeOption,
    },
    /// `proposal`.
    #[serde(rename = "proposal")]
    Proposal {
        /// `MLSMessage moreProposals<V>`.
        #[serde(rename = "moreProposals")]
        more_proposals: Vec<MlsMessage>,
    },
}

impl HandshakeBundle {
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        let ct = self.proposal_or_commit.content_type();
        if self.proposal_or_commit.wire_format() != Some(WireFormat::PublicMessage) {
            return Err(enc_err(
                "HandshakeBundle.proposalOrCommit must be a PublicMessage",
            ));
        }
        put(out, &self.proposal_or_commit)?;
        match &self.body {
            HandshakeBundleBody::Commit {
                welcome,
                group_info_option,
                ratchet_tree_option,
            } => {
                if ct != Some(ContentType::Commit) {
                    return Err(enc_err("commit arm with a non-commit message"));
                }
                put(out, welcome)?;
                put(out, group_info_option)?;
                put(out, ratchet_tree_option)
            }
            HandshakeBundleBody::Proposal { more_proposals } => {
                if ct != Some(ContentType::Proposal) {
                    return Err(enc_err("proposal arm with a non-proposal message"));
                }
                check_proposals(more_proposals)?;
                put(out, more_proposals)
            }
        }
    }
}
impl WireDecode for HandshakeBundle {
    const NAME: &'static str = "HandshakeBundle";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let proposal_or_commit = MlsMessage::decode(r).map_err(|e| e.field("proposalOrCommit"))?;
        let ct = handshake_content_type(&proposal_or_commit, at)
            .map_err(|e| e.field("proposalOrCommit"))?;
        let body = match ct {
            ContentType::Commit => HandshakeBundleBody::Commit {
                welcome: Option::<MlsWelcome>::decode(r).map_err(|e| e.field("welcome"))?,
                group_info_option: GroupInfoOption::decode(r)
                    .map_err(|e| e.field("groupInfoOption"))?,
                ratchet_tree_option: RatchetTreeOption::decode(r)
                    .map_err(|e| e.field("ratchetTreeOption"))?,
            },
            _ => HandshakeBundleBody::Proposal {
                more_proposals: decode_proposal_list(r).map_err(|e| e.field("moreProposals"))?,
            },
        };
        Ok(Self {
            proposal_or_commit,
            body,
        })
    }
}
tls_via_wire!(HandshakeBundle);

/// `UpdateRequest` (protocol-06 §5.3). Its select is on `room.protocol`, which is not on
/// the wire: the hub knows it from the room. [`UpdateRequest::decode_for`] takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateRequest {
    /// `HandshakeBundle bundle` (the mls10 case).
    pub bundle: HandshakeBundle,
}

impl UpdateRequest {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        self.bundle.write(out)
    }

    /// Decodes for a room running `protocol`.
    pub fn decode_for(protocol: Protocol, r: &mut Reader<'_>) -> Result<Self, WireError> {
        match protocol {
            Protocol::Mls10 => Ok(Self {
                bundle: HandshakeBundle::decode(r).map_err(|e| e.field("bundle"))?,
            }),
        }
    }
}
impl WireDecode for UpdateRequest {
    const NAME: &'static str = "UpdateRequest";
    /// Stand-alone decoding assumes `mls10`, the only protocol defined.
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Self::decode_for(Protocol::Mls10, r)
    }
}
tls_via_wire!(UpdateRequest);

wire_enum! {
    /// `UpdateResponseCode` (protocol-06 §5.3; once spelled `UpdatedResponseCode`).
    pub enum UpdateResponseCode: u8 = "UpdateResponseCode" {
        /// `success(0)`.
        Success = 0 => "success",
        /// `wrongEpoch(1)`.
        WrongEpoch = 1 => "wrongEpoch",
        /// `notAllowed(2)`.
        NotAllowed = 2 => "notAllowed",
        /// `invalidProposal(3)`.
        InvalidProposal = 3 => "invalidProposal",
    }
}

/// `UpdateRoomResponse` (protocol-06 §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateRoomResponse {
    /// `string errorDescription`.
    #[serde(rename = "errorDescription")]
    pub error_description: WireString,
    /// `responseCode` and its arm.
    #[serde(flatten)]
    pub result: UpdateResult,
}

/// `responseCode` with the `select (responseCode)` arms of [`UpdateRoomResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "responseCode")]
pub enum UpdateResult {
    /// `success`: `uint64 accepted_timestamp` (ms since the Unix epoch).
    #[serde(rename = "success")]
    Success {
        /// Hub acceptance time.
        accepted_timestamp: u64,
    },
    /// `wrongEpoch`: `uint64 currentEpoch`.
    #[serde(rename = "wrongEpoch")]
    WrongEpoch {
        /// The group's current epoch.
        #[serde(rename = "currentEpoch")]
        current_epoch: u64,
    },
    /// `notAllowed`: no payload.
    #[serde(rename = "notAllowed")]
    NotAllowed,
    /// `invalidProposal`: `ProposalRef invalidProposals<V>`.
    #[serde(rename = "invalidProposal")]
    InvalidProposal {
        /// The offending proposals.
        #[serde(rename = "invalidProposals")]
        invalid_proposals: Vec<ProposalRef>,
    },
}

impl UpdateResult {
    /// The response code.
    pub fn code(&self) -> UpdateResponseCode {
        match self {
            Self::Success { .. } => UpdateResponseCode::Success,
            Self::WrongEpoch { .. } => UpdateResponseCode::WrongEpoch,
            Self::NotAllowed => UpdateResponseCode::NotAllowed,
            Self::InvalidProposal { .. } => UpdateResponseCode::InvalidProposal,
        }
    }
}

impl UpdateRoomResponse {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        put(out, &self.result.code())?;
        put(out, &self.error_description)?;
        match &self.result {
            UpdateResult::Success { accepted_timestamp } => put(out, accepted_timestamp),
            UpdateResult::WrongEpoch { current_epoch } => put(out, current_epoch),
            UpdateResult::NotAllowed => Ok(()),
            UpdateResult::InvalidProposal { invalid_proposals } => put(out, invalid_proposals),
        }
    }
}
impl WireDecode for UpdateRoomResponse {
    const NAME: &'static str = "UpdateRoomResponse";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let code = UpdateResponseCode::decode(r).map_err(|e| e.field("responseCode"))?;
        let error_description = WireString::decode(r).map_err(|e| e.field("errorDescription"))?;
        let result = match code {
            UpdateResponseCode::Success => UpdateResult::Success {
                accepted_timestamp: u64::decode(r).map_err(|e| e.field("accepted_timestamp"))?,
            },
            UpdateResponseCode::WrongEpoch => UpdateResult::WrongEpoch {
                current_epoch: u64::decode(r).map_err(|e| e.field("currentEpoch"))?,
            },
            UpdateResponseCode::NotAllowed => UpdateResult::NotAllowed,
            UpdateResponseCode::InvalidProposal => UpdateResult::InvalidProposal {
                invalid_proposals: Vec::<ProposalRef>::decode(r)
                    .map_err(|e| e.field("invalidProposals"))?,
            },
        };
        Ok(Self {
            error_description,
            result,
        })
    }
}
tls_via_wire!(UpdateRoomResponse);
