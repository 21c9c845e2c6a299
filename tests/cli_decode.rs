//! The `mimi-ref decode` command, run as a user would run it.

use std::path::PathBuf;
use std::process::{Command, Output};

fn mimi_ref(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mimi-ref"))
        .args(args)
        .output()
        .expect("the mimi-ref binary runs")
}

fn vectors() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/content"
    ));
    assert!(
        dir.is_dir(),
        "test vectors missing: {} (CI needs ../shared beside the checkout)",
        dir.display()
    );
    dir
}

fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn list_types_names_every_registry_entry() {
    let out = mimi_ref(&["decode", "--list-types"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for t in mimi_ref::wire::registry() {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(t.name)),
            "{} missing from --list-types",
            t.name
        );
    }
    assert!(text.lines().any(|l| l.starts_with("content ")));
    assert!(text.lines().any(|l| l.starts_with("uri ")));
}

#[test]
fn content_vector_decodes_with_its_message_id() {
    let file = vectors().join("original.cbor");
    let edn = std::fs::read_to_string(vectors().join("original.edn")).expect("original.edn");
    // The .edn states the id as `# message ID = h'<first 16 bytes>` + continuation lines.
    let start = edn.find("message ID = h'").expect("id comment in .edn") + 15;
    let hex_start: String = edn[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert!(hex_start.len() >= 16);
    let out = mimi_ref(&[
        "decode",
        "--type",
        "content",
        file.to_str().expect("utf-8 path"),
        "--sender",
        "mimi://example.com/u/alice-smith",
        "--room",
        "mimi://example.com/r/engineering_team",
    ]);
    let json = stdout_json(&out);
    let id = json["messageId"].as_str().expect("messageId printed");
    assert_eq!(id.len(), 64);
    assert!(id.starts_with(&hex_start), "{id} vs .edn {hex_start}");
    assert!(json["message"].is_object());
}

#[test]
fn wire_struct_from_hex() {
    // UpdateRoomResponse: notAllowed(2), errorDescription "" (varint 0).
    let json = stdout_json(&mimi_ref(&[
        "decode",
        "--type",
        "updateroomresponse",
        "--hex",
        "02 00",
    ]));
    assert_eq!(json["responseCode"], "notAllowed");
}

#[test]
fn uri_from_hex() {
    let hex = hex::encode("mimi://A.example/u/alice");
    let json = stdout_json(&mimi_ref(&["decode", "--type", "uri", "--hex", &hex]));
    assert_eq!(json["uri"], "mimi://a.example/u/alice");
    assert_eq!(json["kind"], "user");
}

#[test]
fn malformed_input_fails_with_the_codec_error() {
    let cases: &[(&[&str], &str)] = &[
        // Truncated: errorDescription claims 5 bytes, none follow.
        (
            &["decode", "--type", "UpdateRoomResponse", "--hex", "0205"],
            "errorDescription",
        ),
        // Trailing byte after a complete value.
        (
            &["decode", "--type", "UpdateRoomResponse", "--hex", "020000"],
            "byte",
        ),
        (
            &["decode", "--type", "UpdateRoomResponse", "--hex", "zz"],
            "--hex",
        ),
        (
            &["decode", "--type", "NoSuchStruct", "--hex", "00"],
            "unknown type",
        ),
        (&["decode", "--type", "content", "--hex", "a0"], "content"),
        (&["decode", "--type", "uri", "--hex", "6869"], "uri"),
        (
            &[
                "decode",
                "--type",
                "UpdateRoomResponse",
                "/nonexistent/file",
            ],
            "cannot read",
        ),
        (&["decode", "--type", "UpdateRoomResponse"], "--hex"),
        (
            &[
                "decode",
                "--type",
                "Protocol",
                "--hex",
                "01",
                "--sender",
                "mimi://a.example/u/a",
                "--room",
                "mimi://a.example/r/r",
            ],
            "only meaningful",
        ),
    ];
    for (args, needle) in cases {
        let out = mimi_ref(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(out.stdout.is_empty(), "{args:?} printed {:?}", out.stdout);
        assert!(
            err.contains(needle),
            "{args:?}: stderr {err:?} lacks {needle:?}"
        );
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
}
