//! Raw bytes → `codec::decode` → `validate`; a valid program must run to a
//! `RET` in the emulator on any `seccomp_data`, and the disassembler must
//! not panic on anything that decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syscage::arch::Arch;
use syscage::asm::print::{disasm, DisasmOptions};
use syscage::bpf::codec::{decode, ByteOrder};
use syscage::bpf::data::SeccompData;
use syscage::bpf::validate;

/// Bytes of `seccomp_data` taken from the front of the input.
const DATA_LEN: usize = 4 + 4 + 8 + 6 * 8 + 1;

fuzz_target!(|input: &[u8]| {
    if input.len() < DATA_LEN {
        return;
    }
    let (head, bytes) = input.split_at(DATA_LEN);
    let word = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().unwrap());
    let dword = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().unwrap());
    let data = SeccompData {
        nr: word(0),
        arch: word(4),
        instruction_pointer: dword(8),
        args: [
            dword(16),
            dword(24),
            dword(32),
            dword(40),
            dword(48),
            dword(56),
        ],
    };
    let flags = head[64];
    let order = if flags & 1 == 0 {
        ByteOrder::Little
    } else {
        ByteOrder::Big
    };
    let arch = Arch::ALL[(flags as usize >> 1) % Arch::ALL.len()];
    let Ok(raw) = decode(bytes, order) else {
        return;
    };
    let opts = DisasmOptions {
        no_bpf: flags & 0x40 != 0,
        no_arg_infer: flags & 0x80 != 0,
        asm_able: flags & 0x20 != 0,
    };
    let _ = disasm(&raw, arch, &opts);
    if let Ok(prog) = validate(&raw) {
        let out = syscage::emu::run_traced(&prog, &data, order);
        let out = out.unwrap_or_else(|e| panic!("validated program fails in the emulator: {e}"));
        assert_eq!(out.trace.as_ref().map(Vec::len), Some(out.steps));
        assert_eq!(prog.to_raw().len(), raw.len());
    }
});
