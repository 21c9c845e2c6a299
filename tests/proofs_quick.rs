//! The quick proof obligations (`proofs/*.toml` with `quick = true`) reproduce their
//! expected verdicts — what CI runs; the full set is `mimi-ref prove` (proofs/README.md).

use std::process::{Command, Output};

fn mimi_ref(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mimi-ref"))
        .args(args)
        .output()
        .expect("the mimi-ref binary runs")
}

#[test]
fn quick_obligations_hold() {
    let out = mimi_ref(&["prove", "--quick", "--no-write", "--threads", "1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "prove --quick failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(", 0 differ"), "{stdout}");
    // The quick set includes the findings and the mutations, not only holds-verdicts.
    assert!(stdout.contains("F-1-reproduced"), "{stdout}");
    assert!(
        stdout.contains("mutation-hub-skips-epoch-check"),
        "{stdout}"
    );
}

/// `prove` is not vacuous: an obligation whose expectation is wrong fails.
#[test]
fn a_wrong_expectation_fails() {
    let dir = std::env::temp_dir().join(format!("mimi-prove-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("wrong.toml");
    std::fs::write(
        &file,
        r#"[[obligation]]
name = "wrong"
description = "claims F-1 does not happen as written"
config = "leave-join"
properties = ["P-LEAVE-NEXT-EPOCH"]
expect = "holds"
"#,
    )
    .expect("write");
    let out = mimi_ref(&[
        "prove",
        "--no-write",
        "--threads",
        "1",
        &file.to_string_lossy(),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a wrong expectation passed: {stdout}"
    );
    assert!(stdout.contains("1 differ"), "{stdout}");
}
