//! Running the `cvxnn` binary from the integration tests: the command, a scratch folder, and the
//! checks every command-line test makes.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// `cvxnn ARGS`, its output collected.
pub fn cvxnn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cvxnn"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A file `name` holding `text` in this test process's scratch folder.
pub fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cvxnn-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs the binary and requires success.
pub fn succeed(args: &[&str]) -> Output {
    let out = cvxnn(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A CSV of `n` samples of a planted teacher of architecture `arch` (seed `seed`), in the scratch
/// folder as `name`.
pub fn teacher_file(name: &str, arch: &str, n: usize, seed: u64) -> PathBuf {
    let path = tmp(name, "");
    let (n, seed) = (n.to_string(), seed.to_string());
    let out = path.to_str().unwrap();
    succeed(&[
        "generate", "teacher", "--arch", arch, "--n", &n, "--seed", &seed, "--out", out,
    ]);
    path
}

/// A failure with a message containing `want`, and no panic.
pub fn assert_clean_failure(out: &Output, want: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert!(stderr.contains(want), "stderr lacks '{want}': {stderr}");
}
