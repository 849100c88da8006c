//! Whether this kernel can run the seccomp tests of a CLI test binary.

/// Whether the kernel has seccomp: fails loudly under CI=true when it is
/// missing, else says `NOT CHECKED` and tells the test to stop.
pub fn require_seccomp() -> bool {
    let ok = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| s.contains("Seccomp:"));
    assert!(
        ok || std::env::var("CI").as_deref() != Ok("true"),
        "CI needs seccomp"
    );
    if !ok {
        eprintln!("NOT CHECKED: the kernel has no seccomp");
    }
    ok
}
