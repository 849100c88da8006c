//! The flag groups several commands share, each defined once and
//! `#[command(flatten)]`ed into the commands that take it: the input file
//! ([`Input`], [`InputOrStdin`]), the architecture ([`OneArch`]) or
//! architectures ([`ArchList`]), the output file ([`Output`]) and `--json`
//! ([`Json`]). A command that says more about one of them than the shared
//! help does overrides the help with `mut_arg`, never the flag. (`mut_arg`
//! moves the argument to the end of the command's list, so the input file
//! has its position, 1, fixed, and a command with more positional
//! arguments numbers them too.)

use std::path::{Path, PathBuf};

use anyhow::Result;
use syscage::arch::Arch;

use super::input::{self, Content};

/// Parses an architecture name in any spelling [`Arch::from_name`] takes:
/// the one arch parser of the command line. It runs after clap, so that a
/// bad name is the usual one-line error with exit status 2.
pub fn parse_arch(s: &str) -> Result<Arch> {
    s.parse::<Arch>()
        .map_err(|e| anyhow::anyhow!("--arch {s}: {e}"))
}

/// `-a, --arch ARCH`: the one architecture a command works on.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct OneArch {
    /// Architecture (any spelling: amd64, i386, x86_64, x86, x32, aarch64,
    /// arm, riscv64, s390x, ...); default: the host's.
    #[arg(short = 'a', long = "arch", value_name = "ARCH")]
    pub arch: Option<String>,
}

impl OneArch {
    /// The arch given, or the host's.
    pub fn get(&self) -> Result<Arch> {
        self.arch.as_deref().map_or(Ok(Arch::native()), parse_arch)
    }
}

/// `-a, --arch ARCH[,ARCH...]` (repeatable): the architectures a command
/// works on.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ArchList {
    /// Architectures, repeated or comma-separated (any spelling: amd64,
    /// i386, x86_64, x86, x32, aarch64, arm, ...); default: the host's.
    #[arg(
        id = "arch",
        short = 'a',
        long = "arch",
        value_name = "ARCH",
        value_delimiter = ','
    )]
    pub arches: Vec<String>,
}

impl ArchList {
    /// Whether no arch was given.
    pub fn is_empty(&self) -> bool {
        self.arches.is_empty()
    }

    /// The arches given, in order (none when none was given).
    pub fn get(&self) -> Result<Vec<Arch>> {
        self.arches.iter().map(|a| parse_arch(a)).collect()
    }

    /// The arches given, or the host's alone.
    pub fn or_native(&self) -> Result<Vec<Arch>> {
        if self.arches.is_empty() {
            Ok(vec![Arch::native()])
        } else {
            self.get()
        }
    }
}

/// The input file of a command, `-` for standard input.
#[derive(clap::Args, Clone, Debug)]
pub struct Input {
    /// Input file, or `-` for standard input.
    #[arg(value_name = "FILE", index = 1)]
    pub file: PathBuf,
}

/// The input file of a command that reads standard input without one.
#[derive(clap::Args, Clone, Debug)]
pub struct InputOrStdin {
    /// Input file; `-` or nothing reads standard input.
    #[arg(value_name = "FILE", index = 1)]
    pub file: Option<PathBuf>,
}

impl Input {
    /// Reads the input through the one bounded reader ([`input::read`]).
    pub fn read(&self, content: Content) -> Result<Vec<u8>> {
        input::read(&self.file, content)
    }

    /// Reads the input as UTF-8 text ([`input::read_text`]).
    pub fn read_text(&self) -> Result<String> {
        input::read_text(&self.file)
    }
}

impl InputOrStdin {
    /// The path, `-` when none was given.
    pub fn path(&self) -> &Path {
        self.file.as_deref().unwrap_or(Path::new("-"))
    }

    /// The name to show in messages (`<stdin>` for standard input).
    pub fn name(&self) -> String {
        input::name(self.path())
    }

    /// Reads the input through the one bounded reader ([`input::read`]).
    pub fn read(&self, content: Content) -> Result<Vec<u8>> {
        input::read(self.path(), content)
    }
}

/// `-o, --output FILE`: where the result goes instead of standard output.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Output {
    /// Write the result to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl Output {
    /// Writes `bytes` to the file (replacing it safely, see
    /// [`crate::output::file`]) or to standard output.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        match &self.output {
            Some(path) => crate::output::file::replace(path, bytes),
            None => {
                crate::output::stdout::write_bytes(bytes);
                Ok(())
            }
        }
    }
}

/// `--json`: print the result as JSON.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct Json {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
