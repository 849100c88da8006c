//! The `bpf(2)` commands the counter uses: `BPF_MAP_CREATE`,
//! `BPF_PROG_LOAD`, `BPF_RAW_TRACEPOINT_OPEN`, and reading a map back with
//! `BPF_MAP_GET_NEXT_KEY` and `BPF_MAP_LOOKUP_ELEM`. Every object is an
//! [`OwnedFd`]: closing the raw tracepoint's fd detaches the program.

use super::insn::Insn;
use super::CounterError;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;
const BPF_MAP_GET_NEXT_KEY: libc::c_long = 4;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_RAW_TRACEPOINT_OPEN: libc::c_long = 17;

/// `BPF_MAP_TYPE_HASH`.
pub const MAP_TYPE_HASH: u32 = 1;
/// `BPF_F_NO_PREALLOC`: a hash map allocates an element when it is
/// inserted (creating a preallocated 65,536-entry map takes milliseconds).
pub const F_NO_PREALLOC: u32 = 1;
/// `BPF_MAP_TYPE_ARRAY`.
pub const MAP_TYPE_ARRAY: u32 = 2;
/// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
pub const PROG_TYPE_RAW_TRACEPOINT: u32 = 17;
/// `BPF_PROG_TYPE_SOCKET_FILTER` (loads without attaching anywhere).
pub const PROG_TYPE_SOCKET_FILTER: u32 = 1;

/// `union bpf_attr` as `BPF_MAP_CREATE` reads it (the fields after
/// `map_flags` zero).
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
}

/// `union bpf_attr` for the map element commands.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value_or_next_key: u64,
    flags: u64,
}

/// `union bpf_attr` as `BPF_PROG_LOAD` reads it, up to
/// `expected_attach_type`.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// `union bpf_attr` for `BPF_RAW_TRACEPOINT_OPEN`.
#[repr(C)]
#[derive(Default)]
struct RawTracepointAttr {
    name: u64,
    prog_fd: u32,
    _pad: u32,
}

/// `bpf(cmd, attr, sizeof *attr)`.
fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, initialised `repr(C)` prefix of `union
    // bpf_attr` of the size passed; the kernel reads (and for some
    // commands writes) only that many bytes. Any pointers inside it were
    // set by the callers to buffers that outlive this call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Takes ownership of a descriptor `bpf(2)` returned.
fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: `fd` is a new descriptor the kernel just returned to us; no
    // one else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// A map and the sizes of its keys and values (what the element commands
/// let the kernel read and write).
pub struct Map {
    /// Its descriptor.
    pub fd: OwnedFd,
    key_size: usize,
    value_size: usize,
}

/// Creates a map (`BPF_MAP_CREATE`).
pub fn map_create(
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
) -> Result<Map, CounterError> {
    let mut attr = MapCreateAttr {
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags,
        ..MapCreateAttr::default()
    };
    let fd = bpf(BPF_MAP_CREATE, &mut attr)
        .map(owned)
        .map_err(|source| CounterError::Bpf {
            what: "BPF_MAP_CREATE",
            source,
        })?;
    Ok(Map {
        fd,
        key_size: key_size as usize,
        value_size: value_size as usize,
    })
}

/// Loads a program (`BPF_PROG_LOAD`); the verifier's log is in the error.
pub fn prog_load(prog_type: u32, insns: &[Insn], license: &str) -> Result<OwnedFd, CounterError> {
    let license = CString::new(license).expect("a license has no NUL");
    let mut log = vec![0u8; 64 * 1024];
    let mut attr = ProgLoadAttr {
        prog_type,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
        ..ProgLoadAttr::default()
    };
    attr.prog_name[..7].copy_from_slice(b"syscage");
    match bpf(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => Ok(owned(fd)),
        Err(source) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            Err(CounterError::Load {
                source,
                log: String::from_utf8_lossy(&log[..end]).trim().to_string(),
            })
        }
    }
}

/// Attaches `prog` to raw tracepoint `name` (`BPF_RAW_TRACEPOINT_OPEN`);
/// closing the returned fd detaches it.
pub fn raw_tracepoint_open(name: &str, prog: &OwnedFd) -> Result<OwnedFd, CounterError> {
    let name = CString::new(name).expect("a tracepoint name has no NUL");
    let mut attr = RawTracepointAttr {
        name: name.as_ptr() as u64,
        prog_fd: prog.as_raw_fd() as u32,
        _pad: 0,
    };
    bpf(BPF_RAW_TRACEPOINT_OPEN, &mut attr)
        .map(owned)
        .map_err(|source| CounterError::Bpf {
            what: "BPF_RAW_TRACEPOINT_OPEN",
            source,
        })
}

/// The key after `key` (the first with `None`), or `None` at the end
/// (`BPF_MAP_GET_NEXT_KEY`).
pub fn next_key(map: &Map, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool, CounterError> {
    // The kernel reads and writes key_size bytes at these addresses.
    assert!(key.is_none_or(|k| k.len() == map.key_size) && next.len() == map.key_size);
    map_elem(map, BPF_MAP_GET_NEXT_KEY, "BPF_MAP_GET_NEXT_KEY", key, next)
}

/// The value at `key` (`BPF_MAP_LOOKUP_ELEM`), `false` if there is none.
pub fn lookup(map: &Map, key: &[u8], value: &mut [u8]) -> Result<bool, CounterError> {
    // The kernel reads key_size and writes value_size bytes there.
    assert!(key.len() == map.key_size && value.len() == map.value_size);
    map_elem(
        map,
        BPF_MAP_LOOKUP_ELEM,
        "BPF_MAP_LOOKUP_ELEM",
        Some(key),
        value,
    )
}

/// A map element command that reads `key` (none: a null pointer) and
/// writes `out`: `false` when the kernel says there is none (`ENOENT`).
/// The callers have checked both sizes against the map's.
fn map_elem(
    map: &Map,
    cmd: libc::c_long,
    what: &'static str,
    key: Option<&[u8]>,
    out: &mut [u8],
) -> Result<bool, CounterError> {
    let mut attr = MapElemAttr {
        map_fd: map.fd.as_raw_fd() as u32,
        key: key.map_or(0, |k| k.as_ptr() as u64),
        value_or_next_key: out.as_mut_ptr() as u64,
        ..MapElemAttr::default()
    };
    match bpf(cmd, &mut attr) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(source) => Err(CounterError::Bpf { what, source }),
    }
}
