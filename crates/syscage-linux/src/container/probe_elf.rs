//! The workload of a measuring container: a static ELF executable of a few
//! instructions that calls `exit_group(0)` and nothing else, so every
//! syscall a measuring run logs before its `execve` is the runtime's, and
//! the image needs no file from the host or a registry.

use syscage::arch::Arch;

/// The machine code of `exit_group(0)` on `arch` and the ELF `e_machine`.
fn code(arch: Arch) -> Option<(&'static [u8], u16)> {
    match arch {
        // xor edi, edi; mov eax, 231 (exit_group); syscall
        Arch::X86_64 => Some((&[0x31, 0xff, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05], 62)),
        // mov x0, #0; mov x8, #94 (exit_group); svc #0
        Arch::Aarch64 => Some((
            &[
                0x00, 0x00, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4,
            ],
            183,
        )),
        _ => None,
    }
}

/// Where the one `PT_LOAD` segment is mapped.
const BASE: u64 = 0x40_0000;
/// `sizeof(Elf64_Ehdr)` and `sizeof(Elf64_Phdr)`.
const EHDR: u64 = 64;
const PHDR: u64 = 56;

/// A little-endian 64-bit ELF executable (`ET_EXEC`, one `PT_LOAD`
/// segment, readable and executable) that calls `exit_group(0)`; `None` on
/// an arch syscage has no code for.
pub fn exit_program(arch: Arch) -> Option<Vec<u8>> {
    let (text, machine) = code(arch)?;
    let total = EHDR + PHDR + text.len() as u64;
    let mut f = Vec::with_capacity(total as usize);
    // e_ident: ELFMAG, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV.
    f.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
    f.extend_from_slice(&machine.to_le_bytes()); // e_machine
    f.extend_from_slice(&1u32.to_le_bytes()); // e_version
    f.extend_from_slice(&(BASE + EHDR + PHDR).to_le_bytes()); // e_entry
    f.extend_from_slice(&EHDR.to_le_bytes()); // e_phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    f.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    f.extend_from_slice(&(EHDR as u16).to_le_bytes()); // e_ehsize
    f.extend_from_slice(&(PHDR as u16).to_le_bytes()); // e_phentsize
    f.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    f.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
    f.extend_from_slice(&1u32.to_le_bytes()); // p_type: PT_LOAD
    f.extend_from_slice(&5u32.to_le_bytes()); // p_flags: PF_R | PF_X
    f.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    f.extend_from_slice(&BASE.to_le_bytes()); // p_vaddr
    f.extend_from_slice(&BASE.to_le_bytes()); // p_paddr
    f.extend_from_slice(&total.to_le_bytes()); // p_filesz
    f.extend_from_slice(&total.to_le_bytes()); // p_memsz
    f.extend_from_slice(&0x1000u64.to_le_bytes()); // p_align
    f.extend_from_slice(text);
    Some(f)
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_program_runs_and_exits_0() {
        let dir = std::env::temp_dir().join(format!("syscage-probe-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("exit0");
        std::fs::write(&path, exit_program(Arch::X86_64).unwrap()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Another test thread may fork while the file is still open for
        // writing here; its child holds the write descriptor until it execs
        // (close-on-exec), and exec of a file open for writing is ETXTBSY.
        // The descriptor is gone once that child execs: try again.
        let mut tries = 0;
        let status = loop {
            match std::process::Command::new(&path).status() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => break other.unwrap(),
            }
        };
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(status.code(), Some(0));
    }
}
