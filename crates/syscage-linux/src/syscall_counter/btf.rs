//! Just enough of the kernel's BTF (`/sys/kernel/btf/vmlinux`, the type
//! information of the running kernel) to find where a member lies in a
//! struct: `task_struct.seccomp.mode` and so on, without headers or a
//! compiler.
//!
//! The format (Documentation/bpf/btf.rst): a header (`magic` 0xeB9F,
//! `hdr_len`, `type_off`/`type_len`, `str_off`/`str_len`), then `struct
//! btf_type` records (`name_off`, `info` with kind in bits 24..28 and
//! `vlen` in bits 0..15, `size`/`type`), each followed by kind-specific
//! data; type ids count from 1. Struct and union members are `struct
//! btf_member` (`name_off`, `type`, `offset` in bits, or with the kind flag
//! set, the bit offset in its low 24 bits).

use super::CounterError;

const KIND_INT: u32 = 1;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// One type record: kind, name, size or referenced type, and for structs
/// and unions, where their members are in the blob, how many, and the
/// kind flag (bitfield offsets).
struct Type {
    kind: u32,
    name: u32,
    size_or_type: u32,
    members_at: usize,
    vlen: usize,
    kind_flag: bool,
}

/// A BTF blob: the kernel's file mapped (sysfs maps it since Linux 6.16:
/// no 5 MB copy), or bytes read.
enum Blob {
    /// `mmap(2)`ed, read-only, private; unmapped on drop.
    Mapped { ptr: *const u8, len: usize },
    /// Read into memory.
    Read(Vec<u8>),
}

impl Blob {
    /// `path` mapped, or `None` where the file cannot be mapped.
    fn map(path: &str) -> Option<Blob> {
        let file = std::fs::File::open(path).ok()?;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        if len == 0 {
            return None;
        }
        // SAFETY: a new private read-only mapping of `len` bytes of an open
        // file at an address the kernel chooses; nothing else is touched.
        // (nix's mmap needs its `mman` feature, which the workspace does
        // not enable.)
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(Blob::Mapped {
            ptr: ptr as *const u8,
            len,
        })
    }

    fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: the mapping is `len` readable bytes, alive until drop,
            // and the kernel's BTF does not change while mapped.
            Blob::Mapped { ptr, len } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
            Blob::Read(v) => v,
        }
    }
}

impl Drop for Blob {
    fn drop(&mut self) {
        if let Blob::Mapped { ptr, len } = *self {
            // SAFETY: unmaps exactly the mapping `map` made; no slice of it
            // outlives `self`.
            unsafe { libc::munmap(ptr as *mut libc::c_void, len) };
        }
    }
}

/// The type section of a BTF blob, indexed: where each type's record
/// starts (a record is decoded when asked for: the kernel's BTF has well
/// over 100,000 types, and a lookup needs a handful).
pub struct Btf {
    data: Blob,
    /// Type id - 1 → byte offset of its record.
    records: Vec<u32>,
    strings: std::ops::Range<usize>,
}

fn u32_in(data: &[u8], at: usize) -> Result<u32, CounterError> {
    data.get(at..at + 4)
        .map(|b| u32::from_ne_bytes(b.try_into().expect("4 bytes")))
        .ok_or_else(|| bad("truncated"))
}

fn bad(why: &str) -> CounterError {
    CounterError::Btf(why.to_string())
}

/// The record at `at`: (type, where the record's kind-specific data
/// ends).
fn record(data: &[u8], at: usize) -> Result<(Type, usize), CounterError> {
    let name = u32_in(data, at)?;
    let info = u32_in(data, at + 4)?;
    let size_or_type = u32_in(data, at + 8)?;
    let kind = (info >> 24) & 0x1f;
    let vlen = (info & 0xffff) as usize;
    let members_at = at + 12;
    let end = members_at
        + match kind {
            KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
            KIND_ARRAY => 12,
            KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * vlen,
            KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen,
            0..=19 => 0,
            _ => return Err(bad(&format!("unknown type kind {kind}"))),
        };
    let t = Type {
        kind,
        name,
        size_or_type,
        members_at,
        vlen: if matches!(kind, KIND_STRUCT | KIND_UNION) {
            vlen
        } else {
            0
        },
        kind_flag: info >> 31 == 1,
    };
    Ok((t, end))
}

impl Btf {
    /// Parses a BTF blob (of the host's byte order).
    pub fn parse(data: Vec<u8>) -> Result<Btf, CounterError> {
        Btf::index(Blob::Read(data))
    }

    fn index(blob: Blob) -> Result<Btf, CounterError> {
        let data = blob.bytes();
        let u32_at = |at: usize| u32_in(data, at);
        if data.len() < 24 || u16::from_ne_bytes([data[0], data[1]]) != 0xeb9f {
            return Err(bad("not BTF of this byte order (bad magic)"));
        }
        let hdr_len = u32_at(4)? as usize;
        let (type_off, type_len) = (u32_at(8)? as usize, u32_at(12)? as usize);
        let (str_off, str_len) = (u32_at(16)? as usize, u32_at(20)? as usize);
        let strings = hdr_len + str_off..hdr_len + str_off + str_len;
        if strings.end > data.len() {
            return Err(bad("string section out of bounds"));
        }
        let start = hdr_len + type_off;
        let end = start + type_len;
        if end > data.len() || end > u32::MAX as usize {
            return Err(bad("type section out of bounds"));
        }
        // About 30 bytes a record in the kernel's BTF.
        let mut records = Vec::with_capacity(type_len / 24);
        let mut at = start;
        while at < end {
            records.push(at as u32);
            at = record(data, at)?.1;
        }
        if at > end {
            return Err(bad("members out of bounds"));
        }
        Ok(Btf {
            data: blob,
            records,
            strings,
        })
    }

    /// Type `id` (0 is `void`).
    fn ty(&self, id: u32) -> Option<Type> {
        let at = *self.records.get((id as usize).checked_sub(1)?)?;
        record(self.data.bytes(), at as usize).ok().map(|(t, _)| t)
    }

    /// The running kernel's BTF.
    pub fn vmlinux() -> Result<Btf, CounterError> {
        let path = "/sys/kernel/btf/vmlinux";
        if let Some(blob) = Blob::map(path) {
            return Btf::index(blob);
        }
        let data = std::fs::read(path).map_err(|e| bad(&format!("{path}: {e}")))?;
        Btf::parse(data)
    }

    fn name(&self, off: u32) -> &[u8] {
        let strings = &self.data.bytes()[self.strings.clone()];
        let s = strings.get(off as usize..).unwrap_or(&[]);
        &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())]
    }

    /// The type behind typedefs and qualifiers.
    fn resolve(&self, mut id: u32) -> Option<Type> {
        for _ in 0..32 {
            let t = self.ty(id)?;
            match t.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.size_or_type
                }
                _ => return Some(t),
            }
        }
        None
    }

    /// The struct named `name` that has members (not a forward one).
    fn find_struct(&self, name: &str) -> Option<Type> {
        let data = self.data.bytes();
        self.records.iter().find_map(|&at| {
            let (t, _) = record(data, at as usize).ok()?;
            (t.kind == KIND_STRUCT && t.vlen > 0 && self.name(t.name) == name.as_bytes())
                .then_some(t)
        })
    }

    /// The members of a struct or union: (name, type, bit offset).
    fn members(&self, t: &Type) -> impl Iterator<Item = (u32, u32, u32)> + '_ {
        let (at, flag) = (t.members_at, t.kind_flag);
        (0..t.vlen).filter_map(move |m| {
            let base = at + 12 * m;
            let data = self.data.bytes();
            let offset = u32_in(data, base + 8).ok()?;
            let bits = if flag { offset & 0xff_ffff } else { offset };
            Some((u32_in(data, base).ok()?, u32_in(data, base + 4).ok()?, bits))
        })
    }

    /// (bit offset, type) of member `name` of `t`, looking into anonymous
    /// struct and union members too.
    fn member(&self, t: &Type, name: &str) -> Option<(u32, Type)> {
        for (m_name, m_type, bits) in self.members(t) {
            if self.name(m_name) == name.as_bytes() {
                return Some((bits, self.resolve(m_type)?));
            }
            if m_name == 0 {
                let inner = self.resolve(m_type)?;
                if let Some((b, ty)) = self.member(&inner, name) {
                    return Some((bits + b, ty));
                }
            }
        }
        None
    }

    /// The byte offset and size of `path` (members, outermost first) in
    /// struct `root`: `("task_struct", ["seccomp", "mode"])`.
    pub fn offset_of(&self, root: &str, path: &[&str]) -> Result<(u32, u32), CounterError> {
        let missing = || CounterError::Btf(format!("no member {root}.{}", path.join(".")));
        let mut t = self.find_struct(root).ok_or_else(missing)?;
        let mut bits = 0;
        for name in path {
            let (b, ty) = self.member(&t, name).ok_or_else(missing)?;
            bits += b;
            t = ty;
        }
        if bits % 8 != 0 {
            return Err(missing());
        }
        let size = match t.kind {
            KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 => t.size_or_type,
            _ => 0,
        };
        Ok((bits / 8, size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob: `int` (4 bytes), `struct inner { int pad; int mode; }`,
    /// `typedef struct inner inner_t`, `struct outer { int a; union { int
    /// b; inner_t c; }; }`.
    fn blob() -> Vec<u8> {
        let strings = b"\0int\0inner\0pad\0mode\0inner_t\0outer\0a\0b\0c\0".to_vec();
        let at = |s: &str| {
            let needle = format!("\0{s}\0");
            strings
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap() as u32
                + 1
        };
        let mut t: Vec<u32> = Vec::new();
        // 1: int
        t.extend([at("int"), KIND_INT << 24, 4, 32]);
        // 2: struct inner
        t.extend([at("inner"), (KIND_STRUCT << 24) | 2, 8]);
        t.extend([at("pad"), 1, 0, at("mode"), 1, 32]);
        // 3: typedef inner_t
        t.extend([at("inner_t"), KIND_TYPEDEF << 24, 2]);
        // 4: anonymous union { int b; inner_t c; }
        t.extend([0, (KIND_UNION << 24) | 2, 8, at("b"), 1, 0, at("c"), 3, 0]);
        // 5: struct outer { int a; union ...; } (the union at byte 8)
        t.extend([
            at("outer"),
            (KIND_STRUCT << 24) | 2,
            16,
            at("a"),
            1,
            0,
            0,
            4,
            64,
        ]);
        let types: Vec<u8> = t.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let mut out = Vec::new();
        out.extend(0xeb9fu16.to_ne_bytes());
        out.extend([1, 0]);
        for v in [
            24u32,
            0,
            types.len() as u32,
            types.len() as u32,
            strings.len() as u32,
        ] {
            out.extend(v.to_ne_bytes());
        }
        out.extend(types);
        out.extend(strings);
        out
    }

    #[test]
    fn members_through_typedefs_and_anonymous_unions() {
        let btf = Btf::parse(blob()).unwrap();
        assert_eq!(btf.offset_of("outer", &["c", "mode"]).unwrap(), (12, 4));
        assert_eq!(btf.offset_of("outer", &["b"]).unwrap(), (8, 4));
        assert_eq!(btf.offset_of("inner", &["mode"]).unwrap(), (4, 4));
        assert!(btf.offset_of("outer", &["nothing"]).is_err());
        assert!(Btf::parse(blob()[..30].to_vec()).is_err());
    }

    #[test]
    fn the_running_kernels_task_struct() {
        let Ok(btf) = Btf::vmlinux() else {
            println!("NOT CHECKED: no /sys/kernel/btf/vmlinux");
            return;
        };
        let (_, size) = btf.offset_of("task_struct", &["seccomp", "mode"]).unwrap();
        assert_eq!(size, 4);
    }
}
