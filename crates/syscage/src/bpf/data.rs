//! Layout of the kernel's `struct seccomp_data`, the input of every filter:
//!
//! ```c
//! struct seccomp_data {
//!     int   nr;                   /* offset 0  */
//!     __u32 arch;                 /* offset 4  */
//!     __u64 instruction_pointer;  /* offset 8  */
//!     __u64 args[6];              /* offset 16 */
//! };
//! ```

use super::ByteOrder;

/// `sizeof(struct seccomp_data)`, the value of `BPF_LEN` loads.
pub const SECCOMP_DATA_SIZE: u32 = 64;
/// Offset of `nr`.
pub const OFF_NR: u32 = 0;
/// Offset of `arch`.
pub const OFF_ARCH: u32 = 4;
/// Offset of `instruction_pointer`.
pub const OFF_IP: u32 = 8;
/// Offset of `args[0]`.
pub const OFF_ARGS: u32 = 16;

/// Which half of a 64-bit field a 32-bit load reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Half {
    /// Bits 0..32.
    Low,
    /// Bits 32..64.
    High,
}

/// Offset of one 32-bit half of `args[index]` on an arch of byte order `order`
/// (on big-endian arches the high word comes first).
pub const fn arg_offset(index: u8, half: Half, order: ByteOrder) -> u32 {
    let base = OFF_ARGS + 8 * index as u32;
    match (half, order) {
        (Half::Low, ByteOrder::Little) | (Half::High, ByteOrder::Big) => base,
        (Half::High, ByteOrder::Little) | (Half::Low, ByteOrder::Big) => base + 4,
    }
}

/// Offset of one 32-bit half of `instruction_pointer`.
pub const fn ip_offset(half: Half, order: ByteOrder) -> u32 {
    match (half, order) {
        (Half::Low, ByteOrder::Little) | (Half::High, ByteOrder::Big) => OFF_IP,
        (Half::High, ByteOrder::Little) | (Half::Low, ByteOrder::Big) => OFF_IP + 4,
    }
}

/// One `struct seccomp_data`: what the kernel hands a filter for a syscall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeccompData {
    /// Syscall number (`nr`), as the filter sees it (x32 numbers carry bit 30).
    pub nr: u32,
    /// `AUDIT_ARCH_*` value of the calling convention.
    pub arch: u32,
    /// Address of the syscall instruction.
    pub instruction_pointer: u64,
    /// The six syscall arguments, each 64 bits wide.
    pub args: [u64; 6],
}

impl SeccompData {
    /// The 32-bit word a `BPF_LD | BPF_W | BPF_ABS` at `offset` reads, with
    /// 64-bit fields laid out in `order`. `None` when the offset is
    /// unaligned or outside the structure.
    pub fn word_at(&self, offset: u32, order: ByteOrder) -> Option<u32> {
        if offset % 4 != 0 || offset >= SECCOMP_DATA_SIZE {
            return None;
        }
        let split = |v: u64, first: bool| -> u32 {
            let (lo, hi) = (v as u32, (v >> 32) as u32);
            match (order, first) {
                (ByteOrder::Little, true) | (ByteOrder::Big, false) => lo,
                (ByteOrder::Little, false) | (ByteOrder::Big, true) => hi,
            }
        };
        Some(match offset {
            OFF_NR => self.nr,
            OFF_ARCH => self.arch,
            8 | 12 => split(self.instruction_pointer, offset == 8),
            _ => {
                let rel = offset - OFF_ARGS;
                split(self.args[(rel / 8) as usize], rel % 8 == 0)
            }
        })
    }

    /// Serialises to the 64 bytes the kernel would lay out, in `order`.
    pub fn to_bytes(&self, order: ByteOrder) -> [u8; 64] {
        let mut out = [0u8; 64];
        for off in (0..SECCOMP_DATA_SIZE).step_by(4) {
            let w = self.word_at(off, order).unwrap_or(0);
            let b = match order {
                ByteOrder::Little => w.to_le_bytes(),
                ByteOrder::Big => w.to_be_bytes(),
            };
            out[off as usize..off as usize + 4].copy_from_slice(&b);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_order() {
        let d = SeccompData {
            nr: 1,
            arch: 2,
            instruction_pointer: 0x1111_2222_3333_4444,
            args: [0xaaaa_bbbb_cccc_dddd, 0, 0, 0, 0, 0x5555_6666_7777_8888],
        };
        assert_eq!(d.word_at(16, ByteOrder::Little), Some(0xcccc_dddd));
        assert_eq!(d.word_at(20, ByteOrder::Little), Some(0xaaaa_bbbb));
        assert_eq!(d.word_at(16, ByteOrder::Big), Some(0xaaaa_bbbb));
        assert_eq!(d.word_at(8, ByteOrder::Little), Some(0x3333_4444));
        assert_eq!(d.word_at(60, ByteOrder::Little), Some(0x5555_6666));
        assert_eq!(d.word_at(2, ByteOrder::Little), None);
        assert_eq!(d.word_at(64, ByteOrder::Little), None);
        assert_eq!(arg_offset(5, Half::High, ByteOrder::Little), 60);
        assert_eq!(arg_offset(0, Half::Low, ByteOrder::Big), 20);
    }
}
