//! The property, variant and mutation catalogues are well formed.

use mimi_model::properties::{property_catalogue, violation_names, Kind};
use mimi_model::variants::{variant_catalogue, Variants};
use std::collections::BTreeSet;

fn req_ok(r: &str) -> bool {
    let num = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    // section-numbered catalogue ids: PROTO-5.5-01, PROTO-5.4.1.3-04
    let sec_id = |s: &str| {
        s.split_once('-')
            .is_some_and(|(sec, n)| num(n) && !sec.is_empty() && sec.split('.').all(num))
    };
    r.strip_prefix("PROTO-INV-").is_some_and(num)
        || (!r.starts_with("PROTO-INV") && r.strip_prefix("PROTO-").is_some_and(sec_id))
        || r.strip_prefix("POLICY-I").is_some_and(num)
        || r.strip_prefix("POLICY-T").is_some_and(num)
        || r.strip_prefix("MM-").is_some_and(num)
}

#[test]
fn property_ids_unique_and_requirements_well_formed() {
    let cat = property_catalogue();
    let mut ids = BTreeSet::new();
    for p in &cat {
        assert!(p.id.starts_with("P-"), "{}", p.id);
        assert!(ids.insert(p.id), "duplicate {}", p.id);
        assert!(
            !p.description.is_empty() && !p.sections.is_empty(),
            "{}",
            p.id
        );
        for r in p.requirements {
            assert!(req_ok(r), "{}: bad requirement id {r}", p.id);
        }
        if p.kind != Kind::Sometimes {
            assert!(!p.requirements.is_empty(), "{} cites no requirement", p.id);
        }
    }
    // the metadata properties the issue asks for exist
    for id in [
        "P-MM-1",
        "P-MM-2",
        "P-MM-4",
        "P-MM-8",
        "P-MM-9",
        "P-MM-11",
        "P-MM-12",
        "P-AGREEMENT",
        "P-NO-ESCALATION",
        "P-REMOVED-NO-APP-MSG",
        "P-CONVERGED",
    ] {
        assert!(ids.contains(id), "missing {id}");
    }
}

#[test]
fn violation_bits_name_catalogued_always_properties() {
    let cat = property_catalogue();
    for bit in 0..64 {
        for n in violation_names(1u64 << bit) {
            let p = cat
                .iter()
                .find(|p| p.id == n)
                .unwrap_or_else(|| panic!("bit {bit} names unknown {n}"));
            assert_eq!(p.kind, Kind::Always, "{n}");
        }
    }
    assert_eq!(violation_names(0b11).len(), 2);
}

#[test]
fn variants_round_trip() {
    for v in variant_catalogue() {
        for val in v.values {
            let mut x = Variants::default();
            x.set(v.name, val).expect("valid");
            assert!(x.values().contains(&(v.name, *val)), "{} {}", v.name, val);
        }
        let mut x = Variants::default();
        assert!(x.set(v.name, "bogus").is_err());
    }
    // the defaults are the first listed values (the draft as written)
    let d = Variants::default().values();
    for v in variant_catalogue() {
        assert!(d.contains(&(v.name, v.values[0])), "{}", v.name);
    }
}
