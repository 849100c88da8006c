//! Assembly text → `asm::parse::assemble` must never panic, on any arch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syscage::arch::Arch;

fuzz_target!(|input: &[u8]| {
    let Some((&sel, text)) = input.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let arch = Arch::ALL[sel as usize % Arch::ALL.len()];
    if let Ok(prog) = syscage::asm::parse::assemble(text, arch) {
        // What the assembler produces is a program the kernel would take.
        let _ = syscage::bpf::validate(&prog.to_raw());
    }
});
