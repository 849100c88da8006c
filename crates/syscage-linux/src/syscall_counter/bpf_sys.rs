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
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
const BPF_MAP_LOOKUP_BATCH: libc::c_long = 24;

/// `BPF_MAP_TYPE_HASH`.
pub const MAP_TYPE_HASH: u32 = 1;
/// `BPF_F_NO_PREALLOC`: a hash map allocates an element when it is
/// inserted (creating a preallocated 65,536-entry map takes milliseconds).
pub const F_NO_PREALLOC: u32 = 1;
/// `BPF_MAP_TYPE_ARRAY`.
pub const MAP_TYPE_ARRAY: u32 = 2;
/// `BPF_MAP_TYPE_PERCPU_ARRAY`: an array with a value per possible CPU.
pub const MAP_TYPE_PERCPU_ARRAY: u32 = 6;
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

/// `union bpf_attr` for `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `union bpf_attr` for the batch commands.
#[repr(C)]
#[derive(Default)]
struct BatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
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
/// The first attempt asks for no log (writing it takes the verifier
/// longer than checking the program: 3 ms of 3.5 here); a refused
/// program is loaded again with the log on, to say why.
pub fn prog_load(prog_type: u32, insns: &[Insn], license: &str) -> Result<OwnedFd, CounterError> {
    let license = CString::new(license).expect("a license has no NUL");
    let mut attr = ProgLoadAttr {
        prog_type,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        ..ProgLoadAttr::default()
    };
    attr.prog_name[..7].copy_from_slice(b"syscage");
    if let Ok(fd) = bpf(BPF_PROG_LOAD, &mut attr) {
        return Ok(owned(fd));
    }
    let mut log = vec![0u8; 64 * 1024];
    attr.log_level = 1;
    attr.log_size = log.len() as u32;
    attr.log_buf = log.as_mut_ptr() as u64;
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

/// What the kernel says of a loaded program (`struct bpf_prog_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgInfo {
    /// How many instructions the verifier checked (`verified_insns`, Linux
    /// 5.16+; 0 before).
    pub verified_insns: u32,
    /// How many times the kernel did not run it because it was already
    /// running on that CPU (`recursion_misses`, Linux 5.12+; 0 before).
    pub recursion_misses: u64,
}

/// [`ProgInfo`] of `prog` (`BPF_OBJ_GET_INFO_BY_FD`).
pub fn prog_info(prog: &OwnedFd) -> Result<ProgInfo, CounterError> {
    // Offsets in `struct bpf_prog_info` (uapi linux/bpf.h).
    const RECURSION_MISSES: usize = 208;
    const VERIFIED_INSNS: usize = 216;
    // Larger than the kernel's struct is fine: the tail must be zero.
    let mut info = [0u8; 256];
    let mut attr = InfoAttr {
        bpf_fd: prog.as_raw_fd() as u32,
        info_len: info.len() as u32,
        info: info.as_mut_ptr() as u64,
    };
    bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr).map_err(|source| CounterError::Bpf {
        what: "BPF_OBJ_GET_INFO_BY_FD",
        source,
    })?;
    let written = attr.info_len as usize;
    // A field the kernel did not write (an older struct) reads 0.
    let bytes = |at: usize, len: usize| info.get(at..at + len).filter(|_| written >= at + len);
    Ok(ProgInfo {
        recursion_misses: bytes(RECURSION_MISSES, 8)
            .map_or(0, |b| u64::from_ne_bytes(b.try_into().expect("8 bytes"))),
        verified_insns: bytes(VERIFIED_INSNS, 4)
            .map_or(0, |b| u32::from_ne_bytes(b.try_into().expect("4 bytes"))),
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

/// Every element of a per-CPU array of `len` elements, each as the
/// values of the possible CPUs ([`possible_cpus`]): one
/// `BPF_MAP_LOOKUP_BATCH` (Linux 5.6+), else a `BPF_MAP_LOOKUP_ELEM` per
/// element (the kernel writes an element's values one after the other,
/// each rounded up to 8 bytes).
pub fn per_cpu_array_values(map: &Map, len: u32) -> Result<Vec<Vec<Vec<u8>>>, CounterError> {
    assert!(map.key_size == 4);
    let stride = map.value_size.div_ceil(8) * 8;
    let element = stride * possible_cpus()?;
    let mut keys = vec![0u32; len as usize];
    let mut values = vec![0u8; element * len as usize];
    let mut out_batch = 0u32;
    let mut attr = BatchAttr {
        out_batch: &mut out_batch as *mut u32 as u64,
        keys: keys.as_mut_ptr() as u64,
        values: values.as_mut_ptr() as u64,
        count: len,
        map_fd: map.fd.as_raw_fd() as u32,
        ..BatchAttr::default()
    };
    let split = |values: &[u8]| -> Vec<Vec<u8>> {
        values
            .chunks(stride)
            .map(|v| v[..map.value_size].to_vec())
            .collect()
    };
    // ENOENT: the end was reached (all of them, if `count` says so).
    // Another error (EINVAL before 5.6): one at a time.
    let read = match bpf(BPF_MAP_LOOKUP_BATCH, &mut attr) {
        Ok(_) => true,
        Err(e) => e.raw_os_error() == Some(libc::ENOENT),
    };
    if read && attr.count == len {
        return Ok(values.chunks(element).map(split).collect());
    }
    (0..len)
        .map(|index| {
            let mut one = vec![0u8; element];
            map_elem(
                map,
                BPF_MAP_LOOKUP_ELEM,
                "BPF_MAP_LOOKUP_ELEM",
                Some(&index.to_ne_bytes()),
                &mut one,
            )?;
            Ok(split(&one))
        })
        .collect()
}

/// How many CPUs the kernel may ever bring up (`num_possible_cpus()`, what
/// a per-CPU map holds a value for): `/sys/devices/system/cpu/possible`.
pub fn possible_cpus() -> Result<usize, CounterError> {
    let path = "/sys/devices/system/cpu/possible";
    let text = std::fs::read_to_string(path).map_err(|source| CounterError::Bpf {
        what: "reading /sys/devices/system/cpu/possible",
        source,
    })?;
    cpu_list_len(text.trim())
        .ok_or_else(|| CounterError::Unsupported(format!("{path}: {text:?} is not a CPU list")))
}

/// The number of CPUs in a kernel CPU list (`0-3,8,10-11`: 7).
fn cpu_list_len(list: &str) -> Option<usize> {
    let mut n = 0usize;
    for part in list.split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (lo.parse::<usize>().ok()?, hi.parse::<usize>().ok()?),
            None => {
                let cpu = part.parse::<usize>().ok()?;
                (cpu, cpu)
            }
        };
        n += hi.checked_sub(lo)? + 1;
    }
    (n > 0).then_some(n)
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

#[cfg(test)]
mod tests {
    use super::cpu_list_len;

    #[test]
    fn cpu_lists_count_their_cpus() {
        assert_eq!(cpu_list_len("0"), Some(1));
        assert_eq!(cpu_list_len("0-1"), Some(2));
        assert_eq!(cpu_list_len("0-3,8,10-11"), Some(7));
        assert_eq!(cpu_list_len(""), None);
        assert_eq!(cpu_list_len("3-1"), None);
        assert_eq!(cpu_list_len("x"), None);
    }
}
