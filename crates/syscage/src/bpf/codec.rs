//! Raw `struct sock_filter` arrays as bytes: 8 bytes per instruction
//! (`u16 code`, `u8 jt`, `u8 jf`, `u32 k`) in the byte order of the arch the
//! filter is for.

use super::{DecodeError, RawInsn};

/// Size of one `struct sock_filter` in bytes.
pub const INSN_SIZE: usize = 8;

/// Byte order of the multi-byte fields `code` and `k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ByteOrder {
    /// Little endian (x86, arm, aarch64, riscv, loongarch, mipsel, ppc64le).
    #[default]
    Little,
    /// Big endian (s390x, mips, ppc64, sparc).
    Big,
}

impl ByteOrder {
    /// The byte order of the machine syscage runs on.
    pub const fn native() -> Self {
        if cfg!(target_endian = "big") {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        }
    }
}

/// Bytes that are not a whole number of instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// No bytes at all: a filter has at least one instruction.
    #[error("empty input: a BPF program has at least one 8-byte instruction")]
    Empty,
    /// A trailing partial instruction.
    #[error("{len} bytes is not a multiple of 8: instruction {index} is truncated ({rest} trailing bytes)")]
    Truncated {
        /// Total length of the input.
        len: usize,
        /// Index of the partial instruction.
        index: usize,
        /// Bytes of it that are present.
        rest: usize,
    },
}

/// Errors of [`super::Program::from_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProgramBytesError {
    /// The bytes do not split into instructions.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// An instruction has an opcode seccomp does not accept.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Splits bytes into raw instructions. Never drops a partial instruction.
pub fn decode(bytes: &[u8], order: ByteOrder) -> Result<Vec<RawInsn>, CodecError> {
    if bytes.is_empty() {
        return Err(CodecError::Empty);
    }
    if bytes.len() % INSN_SIZE != 0 {
        return Err(CodecError::Truncated {
            len: bytes.len(),
            index: bytes.len() / INSN_SIZE,
            rest: bytes.len() % INSN_SIZE,
        });
    }
    Ok(bytes
        .chunks_exact(INSN_SIZE)
        .map(|c| {
            let code = [c[0], c[1]];
            let k = [c[4], c[5], c[6], c[7]];
            let (code, k) = match order {
                ByteOrder::Little => (u16::from_le_bytes(code), u32::from_le_bytes(k)),
                ByteOrder::Big => (u16::from_be_bytes(code), u32::from_be_bytes(k)),
            };
            RawInsn::new(code, c[2], c[3], k)
        })
        .collect())
}

/// Writes raw instructions as bytes.
pub fn encode(insns: &[RawInsn], order: ByteOrder) -> Vec<u8> {
    let mut out = Vec::with_capacity(insns.len() * INSN_SIZE);
    for i in insns {
        let (code, k) = match order {
            ByteOrder::Little => (i.code.to_le_bytes(), i.k.to_le_bytes()),
            ByteOrder::Big => (i.code.to_be_bytes(), i.k.to_be_bytes()),
        };
        out.extend_from_slice(&code);
        out.push(i.jt);
        out.push(i.jf);
        out.extend_from_slice(&k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_bytes() {
        let raw = [RawInsn::new(0x15, 1, 2, 0xc000003e)];
        assert_eq!(
            encode(&raw, ByteOrder::Little),
            [0x15, 0, 1, 2, 0x3e, 0, 0, 0xc0]
        );
        assert_eq!(
            encode(&raw, ByteOrder::Big),
            [0, 0x15, 1, 2, 0xc0, 0, 0, 0x3e]
        );
        for order in [ByteOrder::Little, ByteOrder::Big] {
            assert_eq!(decode(&encode(&raw, order), order).unwrap(), raw);
        }
    }

    #[test]
    fn partial_and_empty_are_errors() {
        assert_eq!(decode(&[], ByteOrder::Little), Err(CodecError::Empty));
        assert_eq!(
            decode(&[0; 12], ByteOrder::Little),
            Err(CodecError::Truncated {
                len: 12,
                index: 1,
                rest: 4
            })
        );
    }
}
