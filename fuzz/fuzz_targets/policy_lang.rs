//! Fuzzes the policy language: any text must give a policy or an error
//! with a position, never a panic; a parsed policy must print, read back
//! deciding alike (same rules), and compile without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syscage::compile::{compile, CompileOptions};
use syscage::profile::lang::{self, NoIncludes};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = lang::parse("f.policy", text, &mut NoIncludes) else {
        return;
    };
    let printed = lang::print(&p);
    let q = lang::parse("p.policy", &printed, &mut NoIncludes).expect("printed policies parse");
    assert_eq!(lang::print(&q), printed);
    if p.rules().len() < 2000 {
        let _ = compile(&p, &CompileOptions::default());
    }
});
