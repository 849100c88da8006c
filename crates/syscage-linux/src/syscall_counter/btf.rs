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

/// One type record: kind, name, size or referenced type, kind flag, and
/// for structs and unions, their members (name, type, bit offset).
struct Type {
    kind: u32,
    name: u32,
    size_or_type: u32,
    members: Vec<(u32, u32, u32)>,
}

/// The parsed type section of a BTF blob.
pub struct Btf {
    types: Vec<Type>,
    strings: Vec<u8>,
}

fn bad(why: &str) -> CounterError {
    CounterError::Btf(why.to_string())
}

impl Btf {
    /// Parses a BTF blob (of the host's byte order).
    pub fn parse(data: &[u8]) -> Result<Btf, CounterError> {
        let u32_at = |at: usize| -> Result<u32, CounterError> {
            data.get(at..at + 4)
                .map(|b| u32::from_ne_bytes(b.try_into().expect("4 bytes")))
                .ok_or_else(|| bad("truncated"))
        };
        if data.len() < 24 || u16::from_ne_bytes([data[0], data[1]]) != 0xeb9f {
            return Err(bad("not BTF of this byte order (bad magic)"));
        }
        let hdr_len = u32_at(4)? as usize;
        let (type_off, type_len) = (u32_at(8)? as usize, u32_at(12)? as usize);
        let (str_off, str_len) = (u32_at(16)? as usize, u32_at(20)? as usize);
        let strings = data
            .get(hdr_len + str_off..hdr_len + str_off + str_len)
            .ok_or_else(|| bad("string section out of bounds"))?
            .to_vec();
        let start = hdr_len + type_off;
        let end = start + type_len;
        if end > data.len() {
            return Err(bad("type section out of bounds"));
        }
        // Type id 0 is `void`.
        let mut types = vec![Type {
            kind: 0,
            name: 0,
            size_or_type: 0,
            members: Vec::new(),
        }];
        let mut at = start;
        while at < end {
            let name = u32_at(at)?;
            let info = u32_at(at + 4)?;
            let size_or_type = u32_at(at + 8)?;
            at += 12;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let kind_flag = info >> 31 == 1;
            let mut members = Vec::new();
            match kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => at += 4,
                KIND_ARRAY => at += 12,
                KIND_STRUCT | KIND_UNION => {
                    for m in 0..vlen {
                        let base = at + 12 * m;
                        let offset = u32_at(base + 8)?;
                        let bits = if kind_flag {
                            offset & 0xff_ffff
                        } else {
                            offset
                        };
                        members.push((u32_at(base)?, u32_at(base + 4)?, bits));
                    }
                    at += 12 * vlen;
                }
                KIND_ENUM | KIND_FUNC_PROTO => at += 8 * vlen,
                KIND_DATASEC | KIND_ENUM64 => at += 12 * vlen,
                0..=19 => {}
                _ => return Err(bad(&format!("unknown type kind {kind}"))),
            }
            types.push(Type {
                kind,
                name,
                size_or_type,
                members,
            });
        }
        Ok(Btf { types, strings })
    }

    /// The running kernel's BTF.
    pub fn vmlinux() -> Result<Btf, CounterError> {
        let path = "/sys/kernel/btf/vmlinux";
        let data = std::fs::read(path).map_err(|e| bad(&format!("{path}: {e}")))?;
        Btf::parse(&data)
    }

    fn name(&self, off: u32) -> &[u8] {
        let s = self.strings.get(off as usize..).unwrap_or(&[]);
        &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())]
    }

    /// The type behind typedefs and qualifiers.
    fn resolve(&self, mut id: u32) -> Option<&Type> {
        for _ in 0..32 {
            let t = self.types.get(id as usize)?;
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
    fn find_struct(&self, name: &str) -> Option<&Type> {
        self.types.iter().find(|t| {
            t.kind == KIND_STRUCT && !t.members.is_empty() && self.name(t.name) == name.as_bytes()
        })
    }

    /// (bit offset, type) of member `name` of `t`, looking into anonymous
    /// struct and union members too.
    fn member<'a>(&'a self, t: &'a Type, name: &str) -> Option<(u32, &'a Type)> {
        for &(m_name, m_type, bits) in &t.members {
            if self.name(m_name) == name.as_bytes() {
                return Some((bits, self.resolve(m_type)?));
            }
            if m_name == 0 {
                let inner = self.resolve(m_type)?;
                if let Some((b, ty)) = self.member(inner, name) {
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
            let (b, ty) = self.member(t, name).ok_or_else(missing)?;
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
        let btf = Btf::parse(&blob()).unwrap();
        assert_eq!(btf.offset_of("outer", &["c", "mode"]).unwrap(), (12, 4));
        assert_eq!(btf.offset_of("outer", &["b"]).unwrap(), (8, 4));
        assert_eq!(btf.offset_of("inner", &["mode"]).unwrap(), (4, 4));
        assert!(btf.offset_of("outer", &["nothing"]).is_err());
        assert!(Btf::parse(&blob()[..30]).is_err());
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
