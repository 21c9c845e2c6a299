//! Implied part indexes and `cid:` references (content-08 §"Message Bodies":
//! parts are numbered depth-first in pre-order, the root body being 0; a
//! container format refers to a part as `cid:<partIndex>@local.invalid`, which
//! may only name a SinglePart or an ExternalPart).

use super::error::ContentError;
use super::types::{MimiContent, NestedPart, PartBody};

/// Domain of content-ID URIs that name parts of the same message.
pub const CID_DOMAIN: &str = "local.invalid";

impl NestedPart {
    /// The language tags of this part: the comma-separated `language` field
    /// split, trimmed, empty entries dropped (content-08 §"Language"; tags are
    /// not validated, an unknown tag is not an error).
    pub fn language_tags(&self) -> impl Iterator<Item = &str> {
        self.language
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// This part and all parts below it, depth-first pre-order (index 0 = `self`).
    pub fn parts_preorder(&self) -> Vec<&NestedPart> {
        let mut out = Vec::new();
        fn walk<'a>(p: &'a NestedPart, out: &mut Vec<&'a NestedPart>) {
            out.push(p);
            if let PartBody::Multi(m) = &p.body {
                for c in &m.parts {
                    walk(c, out);
                }
            }
        }
        walk(self, &mut out);
        out
    }
}

impl MimiContent {
    /// The part with the given implied `partIndex`, if any.
    pub fn part_by_index(&self, index: usize) -> Option<&NestedPart> {
        self.nested_part.parts_preorder().get(index).copied()
    }

    /// Resolves a `cid:<partIndex>@local.invalid` URI to the part it names,
    /// enforcing that it is a SinglePart or ExternalPart.
    pub fn resolve_cid(&self, cid: &str) -> Result<&NestedPart, ContentError> {
        let bad = |reason| ContentError::BadCidReference {
            cid: cid.to_owned(),
            reason,
        };
        let rest = cid
            .strip_prefix("cid:")
            .ok_or_else(|| bad("not a cid: URI"))?;
        let (index, domain) = rest
            .split_once('@')
            .ok_or_else(|| bad("missing @local.invalid"))?;
        if !domain.eq_ignore_ascii_case(CID_DOMAIN) {
            return Err(bad("domain is not local.invalid"));
        }
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("part index is not a decimal number"));
        }
        let index: usize = index.parse().map_err(|_| bad("part index too large"))?;
        let part = self
            .part_by_index(index)
            .ok_or_else(|| bad("no part with this index"))?;
        match part.body {
            PartBody::Single(_) | PartBody::External(_) => Ok(part),
            PartBody::Null | PartBody::Multi(_) => Err(bad(
                "names a NullPart or MultiPart, not a Single/ExternalPart",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Disposition, PartBody};

    #[test]
    fn language_tags_split() {
        let p = NestedPart {
            disposition: Disposition::Render,
            language: "en-US, fr,,de ".into(),
            body: PartBody::Null,
        };
        assert_eq!(p.language_tags().collect::<Vec<_>>(), ["en-US", "fr", "de"]);
        let empty = NestedPart {
            language: String::new(),
            ..p
        };
        assert_eq!(empty.language_tags().count(), 0);
    }
}
