//! Find internal address (protocol-06 §5.8).

use serde::Serialize;

use super::common::{
    put, tls_via_wire, wire_enum, wire_struct, IdentifierUri, Opaque, Reader, WireDecode,
    WireError, WireErrorKind, WireString,
};
use super::mls::AppDataDictionary;

wire_enum! {
    /// `SearchIdentifierType` (protocol-06 §5.8).
    pub enum SearchIdentifierType: u8 = "SearchIdentifierType" {
        /// `reserved(0)`.
        Reserved = 0 => "reserved",
        /// `handle(1)`.
        Handle = 1 => "handle",
        /// `nick(2)`.
        Nick = 2 => "nick",
        /// `email(3)`.
        Email = 3 => "email",
        /// `phone(4)`.
        Phone = 4 => "phone",
        /// `partialName(5)`.
        PartialName = 5 => "partialName",
        /// `wholeProfile(6)`.
        WholeProfile = 6 => "wholeProfile",
        /// `oidcStdClaim(7)`.
        OidcStdClaim = 7 => "oidcStdClaim",
        /// `vcardField(8)`.
        VcardField = 8 => "vcardField",
    }
}

/// `QueryElement` (protocol-06 §5.8). The draft's `select(type)` reads `searchType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryElement {
    /// `searchType` and its arm.
    #[serde(flatten)]
    pub search: SearchType,
    /// `opaque searchValue<V>`, a UTF-8 string (validated).
    #[serde(rename = "searchValue")]
    pub search_value: WireString,
}

/// `searchType` with the select arms of [`QueryElement`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "searchType")]
pub enum SearchType {
    /// `handle`.
    #[serde(rename = "handle")]
    Handle,
    /// `nick`.
    #[serde(rename = "nick")]
    Nick,
    /// `email`.
    #[serde(rename = "email")]
    Email,
    /// `phone`.
    #[serde(rename = "phone")]
    Phone,
    /// `partialName`.
    #[serde(rename = "partialName")]
    PartialName,
    /// `wholeProfile`.
    #[serde(rename = "wholeProfile")]
    WholeProfile,
    /// `oidcStdClaim`: `opaque claimName<V>`.
    #[serde(rename = "oidcStdClaim")]
    OidcStdClaim {
        /// The OIDC standard claim name.
        #[serde(rename = "claimName")]
        claim_name: Opaque,
    },
    /// `vcardField`: `opaque propertyName<V>`.
    #[serde(rename = "vcardField")]
    VcardField {
        /// The vCard property name.
        #[serde(rename = "propertyName")]
        property_name: Opaque,
    },
}

impl SearchType {
    /// The type code.
    pub fn code(&self) -> SearchIdentifierType {
        match self {
            Self::Handle => SearchIdentifierType::Handle,
            Self::Nick => SearchIdentifierType::Nick,
            Self::Email => SearchIdentifierType::Email,
            Self::Phone => SearchIdentifierType::Phone,
            Self::PartialName => SearchIdentifierType::PartialName,
            Self::WholeProfile => SearchIdentifierType::WholeProfile,
            Self::OidcStdClaim { .. } => SearchIdentifierType::OidcStdClaim,
            Self::VcardField { .. } => SearchIdentifierType::VcardField,
        }
    }
}

impl QueryElement {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        put(out, &self.search.code())?;
        match &self.search {
            SearchType::OidcStdClaim { claim_name } => put(out, claim_name)?,
            SearchType::VcardField { property_name } => put(out, property_name)?,
            _ => {}
        }
        put(out, &self.search_value)
    }
}
impl WireDecode for QueryElement {
    const NAME: &'static str = "QueryElement";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let search = match SearchIdentifierType::decode(r).map_err(|e| e.field("searchType"))? {
            SearchIdentifierType::Reserved => {
                return Err(WireError::new(
                    at,
                    WireErrorKind::NoSelectCase {
                        enum_name: "SearchIdentifierType",
                        value: 0,
                    },
                )
                .field("searchType"))
            }
            SearchIdentifierType::Handle => SearchType::Handle,
            SearchIdentifierType::Nick => SearchType::Nick,
            SearchIdentifierType::Email => SearchType::Email,
            SearchIdentifierType::Phone => SearchType::Phone,
            SearchIdentifierType::PartialName => SearchType::PartialName,
            SearchIdentifierType::WholeProfile => SearchType::WholeProfile,
            SearchIdentifierType::OidcStdClaim => SearchType::OidcStdClaim {
                claim_name: Opaque::decode(r).map_err(|e| e.field("claimName"))?,
            },
            SearchIdentifierType::VcardField => SearchType::VcardField {
                property_name: Opaque::decode(r).map_err(|e| e.field("propertyName"))?,
            },
        };
        let search_value = WireString::decode(r).map_err(|e| e.field("searchValue"))?;
        Ok(Self {
            search,
            search_value,
        })
    }
}
tls_via_wire!(QueryElement);

wire_struct! {
    /// `IdentifierRequest` (protocol-06 §5.8): the query elements are ANDed.
    pub struct IdentifierRequest = "IdentifierRequest" {
        /// `QueryElement query_elements<V>`.
        pub query_elements: Vec<QueryElement> => "query_elements",
        /// `AppDataDictionary id_request_extensions`.
        pub id_request_extensions: AppDataDictionary => "id_request_extensions",
    }
}

wire_enum! {
    /// `IdentifierQueryCode` (protocol-06 §5.8).
    pub enum IdentifierQueryCode: u8 = "IdentifierQueryCode" {
        /// `success(0)`.
        Success = 0 => "success",
        /// `notFound(1)`.
        NotFound = 1 => "notFound",
        /// `ambiguous(2)`.
        Ambiguous = 2 => "ambiguous",
        /// `forbidden(3)`.
        Forbidden = 3 => "forbidden",
        /// `unsupportedField(4)`.
        UnsupportedField = 4 => "unsupportedField",
    }
}

wire_enum! {
    /// `FieldSource` (protocol-06 §5.8).
    pub enum FieldSource: u8 = "FieldSource" {
        /// `reserved(0)`.
        Reserved = 0 => "reserved",
        /// `oidcStdClaim(7)`.
        OidcStdClaim = 7 => "oidcStdClaim",
        /// `vcardField(8)`.
        VcardField = 8 => "vcardField",
    }
}

wire_struct! {
    /// `ProfileField` (protocol-06 §5.8).
    pub struct ProfileField = "ProfileField" {
        /// `FieldSource fieldSource`.
        pub field_source: FieldSource => "fieldSource",
        /// `string fieldName`.
        pub field_name: WireString => "fieldName",
        /// `opaque fieldValue<V>`.
        pub field_value: Opaque => "fieldValue",
    }
}

wire_struct! {
    /// `UserProfile` (protocol-06 §5.8).
    pub struct UserProfile = "UserProfile" {
        /// `IdentifierUri stableUri`.
        pub stable_uri: IdentifierUri => "stableUri",
        /// `ProfileField fields<V>`.
        pub fields: Vec<ProfileField> => "fields",
    }
}

wire_struct! {
    /// `IdentifierResponse` (protocol-06 §5.8).
    pub struct IdentifierResponse = "IdentifierResponse" {
        /// `IdentifierQueryCode responseCode`.
        pub response_code: IdentifierQueryCode => "responseCode",
        /// `IdentifierUri uri<V>`.
        pub uri: Vec<IdentifierUri> => "uri",
        /// `UserProfile foundProfiles<V>`.
        pub found_profiles: Vec<UserProfile> => "foundProfiles",
        /// `AppDataDictionary id_response_extensions`.
        pub id_response_extensions: AppDataDictionary => "id_response_extensions",
    }
}
