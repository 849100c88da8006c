//! Sets the soname to `libseccomp.so.2` and compiles the C shim for the
//! variadic entry points.

fn main() {
    println!("cargo:rerun-if-changed=src/variadic.c");
    println!("cargo:rerun-if-changed=src/exports.map");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libseccomp.so.2");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/src/exports.map");
    // libseccomp's symbols are versioned by soname only; keep ours global.
    cc::Build::new()
        .file("src/variadic.c")
        .flag_if_supported("-fvisibility=default")
        // Nothing in Rust calls the shim: keep every symbol of it.
        .link_lib_modifier("+whole-archive")
        .compile("syscage_capi_variadic");
}
