//! Memory a process shares with the children it forks: an anonymous shared
//! mapping (`mmap(MAP_SHARED | MAP_ANONYMOUS)`), the way a parent and a
//! forked child exchange a few words without a syscall on the child's side
//! (the recorder's listener handoff, the benchmarks' results).

use std::io;
use std::ptr::NonNull;

/// A zero-filled shared mapping the size of one `T`, unmapped on drop; a
/// child forked while it lives keeps its own mapping until `execve` or exit.
///
/// `T` must be valid when all-zero (integers, atomics, arrays of them).
pub struct SharedMemory<T> {
    ptr: NonNull<T>,
}

impl<T> SharedMemory<T> {
    /// Maps the memory (zero-filled by the kernel).
    pub fn new() -> io::Result<SharedMemory<T>> {
        // SAFETY: a fresh anonymous shared mapping; no existing memory is touched.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                std::mem::size_of::<T>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p.cast::<T>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(SharedMemory { ptr })
    }

    /// The shared `T`: parent and child may both write it, so reads and
    /// writes go through atomics or happen while the other side waits.
    pub fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }
}

impl<T> Drop for SharedMemory<T> {
    fn drop(&mut self) {
        // SAFETY: unmaps the mapping made in `new`, with its length; the
        // pointer is not used after.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), std::mem::size_of::<T>()) };
    }
}
