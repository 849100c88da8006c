//! Reading tracee memory.

use std::io;

use libc::{c_long, c_void, pid_t};

use super::TraceError;

/// Reads `len` bytes at `addr` in the tracee: `process_vm_readv(2)`, and
/// word by word with `PTRACE_PEEKDATA` when that fails (e.g. no
/// `CONFIG_CROSS_MEMORY_ATTACH`). The tracee must be ptrace-stopped.
pub fn read_memory(tid: pid_t, addr: u64, len: usize) -> Result<Vec<u8>, TraceError> {
    let mut buf = vec![0u8; len];
    if len == 0 {
        return Ok(buf);
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut c_void,
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut c_void,
        iov_len: len,
    };
    // SAFETY: `local` points to `buf`, which holds `len` writable bytes;
    // `remote` is only dereferenced by the kernel in the other process.
    let n = unsafe { libc::process_vm_readv(tid, &local, 1, &remote, 1, 0) };
    if n == len as isize {
        return Ok(buf);
    }
    peek_memory(tid, addr, &mut buf).map_err(|source| TraceError::ReadMemory {
        tid,
        addr,
        len,
        error: source,
    })?;
    Ok(buf)
}

/// Reads one native-endian 64-bit word at `addr` in the tracee (a
/// `__u64` field of a struct the syscall points to, say), as
/// [`read_memory`] does.
pub fn read_u64(tid: pid_t, addr: u64) -> Result<u64, TraceError> {
    let bytes = read_memory(tid, addr, 8)?;
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes);
    Ok(u64::from_ne_bytes(word))
}

/// Reads a NUL-terminated string (a path, say) at `addr` in the tracee, at
/// most `max` bytes; the NUL is not included. Reads page by page so a
/// string that ends just before an unmapped page is still read.
pub fn read_c_string(tid: pid_t, addr: u64, max: usize) -> Result<Vec<u8>, TraceError> {
    const PAGE: u64 = 4096;
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < max {
        let chunk = ((PAGE - at % PAGE) as usize).min(max - out.len());
        let bytes = read_memory(tid, at, chunk)?;
        if let Some(end) = bytes.iter().position(|&b| b == 0) {
            out.extend_from_slice(&bytes[..end]);
            return Ok(out);
        }
        out.extend_from_slice(&bytes);
        at += chunk as u64;
    }
    Ok(out)
}

fn peek_memory(tid: pid_t, addr: u64, buf: &mut [u8]) -> Result<(), io::Error> {
    const WORD: u64 = std::mem::size_of::<c_long>() as u64;
    let start = addr & !(WORD - 1);
    let end = addr
        .checked_add(buf.len() as u64)
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?;
    let mut word_addr = start;
    while word_addr < end {
        // nix tells -1 the value from -1 the error (errno cleared first).
        let w = nix::sys::ptrace::read(
            nix::unistd::Pid::from_raw(tid),
            word_addr as usize as nix::sys::ptrace::AddressType,
        )
        .map_err(io::Error::from)?;
        let bytes = w.to_ne_bytes();
        for (i, b) in bytes.iter().enumerate() {
            let a = word_addr + i as u64;
            if a >= addr && a < end {
                buf[(a - addr) as usize] = *b;
            }
        }
        word_addr += WORD;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracee::{spawn, StdinMode};
    use std::io::{Read, Seek, SeekFrom};

    /// `process_vm_readv`, `PTRACE_PEEKDATA` (unaligned start, odd length)
    /// and `/proc/PID/mem` agree on a traced child's memory.
    #[test]
    fn peekdata_fallback_reads_what_process_vm_readv_and_proc_mem_read() {
        let pid = spawn(&["sleep".into(), "30".into()], StdinMode::Null).expect("spawn traced");
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
        let line = maps
            .lines()
            .find(|l| l.contains("[stack]"))
            .expect("stack mapping");
        let start = u64::from_str_radix(line.split('-').next().unwrap(), 16).unwrap();
        let (addr, len) = (start + 4096 - 13, 61);

        let fast = read_memory(pid, addr, len).expect("process_vm_readv");
        let mut slow = vec![0u8; len];
        peek_memory(pid, addr, &mut slow).expect("PTRACE_PEEKDATA");
        let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
        mem.seek(SeekFrom::Start(addr)).unwrap();
        let mut proc_mem = vec![0u8; len];
        mem.read_exact(&mut proc_mem).unwrap();

        crate::fork_exec::kill_and_reap(pid);
        assert_eq!(fast, proc_mem);
        assert_eq!(slow, proc_mem);
    }

    /// The first argument of a traced `sleep` is read back from its
    /// `argv` strings in `/proc/PID/cmdline` order.
    #[test]
    fn c_string_reads_up_to_nul() {
        let pid = spawn(&["sleep".into(), "31".into()], StdinMode::Null).expect("spawn traced");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // Field 48 of /proc/PID/stat is arg_start (proc(5)); fields after
        // the parenthesized comm are split by spaces.
        let after_comm = stat.rsplit_once(')').unwrap().1;
        let fields: Vec<&str> = after_comm.split_whitespace().collect();
        let arg_start: u64 = fields[48 - 3].parse().unwrap();
        let argv0 = read_c_string(pid, arg_start, 4096).unwrap();
        let argv1 = read_c_string(pid, arg_start + argv0.len() as u64 + 1, 4096).unwrap();
        let short = read_c_string(pid, arg_start, 2).unwrap();
        crate::fork_exec::kill_and_reap(pid);
        assert_eq!(argv0, b"sleep");
        assert_eq!(argv1, b"31");
        assert_eq!(short, b"sl");
    }
}
