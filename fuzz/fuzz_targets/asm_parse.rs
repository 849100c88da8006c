//! Assembly text → `asm::parse::assemble` must never panic, on any arch,
//! and every error is located (line and column from 1, within the text)
//! and says what was expected.
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
    match syscage::asm::parse::assemble(text, arch) {
        // What the assembler produces is a program the kernel would take.
        Ok(prog) => {
            let _ = syscage::bpf::validate(&prog.to_raw());
        }
        Err(e) => {
            assert!(e.line >= 1 && e.col >= 1, "{e:?}");
            assert!(e.line <= text.lines().count().max(1) + 1, "{e:?}");
            assert!(e.message.starts_with("expected"), "{e:?}");
        }
    }
});
