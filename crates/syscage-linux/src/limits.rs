//! The kernel's count for `MAX_INSNS_PER_PATH` (32768) over stacked filters.
//!
//! `seccomp_attach_filter` sums `prog->len + 4` over the installed filters
//! plus `prog->len` of the new one, where `prog->len` is the length *after*
//! `bpf_convert_filter` turned the classic program into eBPF: 3 prologue
//! instructions (`A = 0`, `X = 0`, save the context), 2 per `RET`, 2 for a
//! conditional jump that can fall through on neither branch (unless it can
//! be inverted), 1 more for a jump against a `k` with bit 31 set, 5
//! for a `DIV` by `X` (with its division-by-zero check; measured on 6.18), 1 for anything else.

use syscage::bpf::{AluOp, Insn, JmpCond, Program, Src};

/// `MAX_INSNS_PER_PATH`.
pub const MAX_INSNS_PER_PATH: usize = 32768;
/// The extra count per installed filter in `seccomp_attach_filter`.
pub const PER_FILTER_PENALTY: usize = 4;
/// The smallest converted filter (one `RET`), used for filters of unknown size.
pub const MIN_CONVERTED_LEN: usize = 5;

/// Length of `prog` once converted to eBPF (`bpf_prog->len`).
pub fn converted_len(prog: &Program) -> usize {
    3 + prog
        .insns
        .iter()
        .map(|i| converted_insn_len(*i))
        .sum::<usize>()
}

fn converted_insn_len(insn: Insn) -> usize {
    match insn {
        Insn::Ret(_) | Insn::RetA => 2,
        Insn::Alu(AluOp::Div, Src::X) => 5,
        Insn::Jmp { cond, src, jt, jf } => {
            let neg = matches!(src, Src::K(k) if (k as i32) < 0) as usize;
            let invertible = matches!(cond, JmpCond::Eq | JmpCond::Gt | JmpCond::Ge);
            let jumps = if jf == 0 || (jt == 0 && invertible) {
                1
            } else {
                2
            };
            neg + jumps
        }
        _ => 1,
    }
}
