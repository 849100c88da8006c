//! Sets the soname to `libseccomp.so.2` and compiles the C shim for the
//! variadic entry points.

fn main() {
    println!("cargo:rerun-if-changed=src/variadic.c");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libseccomp.so.2");
    // libseccomp's symbols are versioned by soname only; keep ours global.
    cc::Build::new()
        .file("src/variadic.c")
        .flag_if_supported("-fvisibility=default")
        .compile("syscage_capi_variadic");
}
