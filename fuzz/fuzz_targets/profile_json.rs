//! Fuzzes the profile parser and everything after it: any bytes must give
//! a profile or a located error, never a panic; a parsed profile must
//! resolve, translate and write without panicking, and read back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syscage::arch::Arch;
use syscage::profile::{self, KernelVersion, ResolveOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = profile::parse(text) else { return };
    assert_eq!(profile::parse(&p.to_json()).as_ref(), Ok(&p));
    let opts = ResolveOptions::docker(
        vec![Arch::X86_64, Arch::Aarch64],
        KernelVersion { major: 6, minor: 1 },
    );
    if let Ok((policy, _)) = p.to_policy(&opts) {
        let _ = profile::write_docker(&policy);
    }
});
