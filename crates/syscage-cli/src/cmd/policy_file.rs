//! Files in syscage's policy language (`*.policy`): recognised by name or
//! content, parsed with includes read from the file system.

use syscage::policy::Policy;
use syscage::profile::lang::{self, LangError, Loader};

/// Largest file read by an include.
const MAX_BYTES: u64 = lang::MAX_FILE_BYTES as u64;

/// Reads included files from the file system; a file's canonical path is
/// its key for include-cycle detection.
struct FsLoader;

impl Loader for FsLoader {
    fn canonical(&self, path: &str) -> String {
        std::fs::canonicalize(path)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.to_string())
    }

    fn read(&mut self, path: &str) -> Result<String, String> {
        use std::io::Read;
        let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let mut text = String::new();
        f.take(MAX_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| e.to_string())?;
        Ok(text)
    }
}

/// Whether `path` with content `bytes` is a policy-language file (by its
/// `.policy` extension, or text starting with a statement or comment).
pub fn is_policy(path: &str, bytes: &[u8]) -> bool {
    lang::is_policy_language(path, bytes)
}

/// Parses a policy-language file whose text was read already.
pub fn parse(path: &str, text: &str) -> Result<Policy, LangError> {
    lang::parse(path, text, &mut FsLoader)
}
