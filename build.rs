//! Links the system OpenBLAS (BLAS + LAPACK) when the `sdp` feature is on: Clarabel's PSD cone
//! calls LAPACK through `blas-src`/`lapack-src` without a backend, and nothing may be downloaded at
//! build time, so the library comes from Debian's `libopenblas-dev`.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_SDP").is_some() {
        println!("cargo:rustc-link-lib=openblas");
    }
}
