//! `syscage lint`: bypasses and mistakes in a filter.

use super::input;
use syscage::analyze::lint::{lint, Finding, Severity};

/// What `syscage lint --json` prints: the library's [`Finding`]s and the
/// source they are about.
#[derive(serde::Serialize)]
struct LintJson<'a> {
    source: &'a str,
    findings: &'a [Finding],
}

/// Arguments of `syscage lint`.
#[derive(clap::Args)]
pub struct Args {
    /// The filter or profile, and its arch.
    #[command(flatten)]
    pub target: input::Target,
    /// `--json`.
    #[command(flatten)]
    pub json: super::flag_groups::Json,
}

/// Runs `syscage lint`; exit code 1 when there are findings above `info`.
pub fn run(args: Args) -> anyhow::Result<u8> {
    // The refusal is a finding too, and a warning as for the other analyses.
    let (arch, loaded, table) = args.target.lift()?;
    if let Some(e) = syscage::analyze::lint::kernel_refusal(&loaded.program) {
        diagln!(
            "{}: warning: the kernel would refuse this filter ({e}); analysing it anyway",
            args.target.file()
        );
    }
    let mut findings = lint(&table, &loaded.program, &[arch.audit()]);
    if let Some(policy) = &loaded.policy {
        // A profile states its default: judge that, not the majority.
        if !policy.default_action().permits() {
            findings.retain(|f| f.id != "permissive-default");
        }
        findings.extend(syscage::analyze::lint::lint_policy(policy));
    }
    if args.json.json {
        let out = LintJson {
            source: &loaded.source,
            findings: &findings,
        };
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        outln!("Seccomp lint of {}\n", loaded.source);
        if findings.is_empty() {
            outln!("No weaknesses found.");
        }
        for f in &findings {
            outln!("[{}] {}", f.severity.name().to_uppercase(), f.title);
            outln!("    {}", f.detail);
            if let Some(c) = &f.condition {
                outln!("    when: {c}");
            }
            if !f.insns.is_empty() {
                let shown: Vec<String> =
                    f.insns.iter().take(12).map(|i| format!("{i:04}")).collect();
                let more = if f.insns.len() > 12 { " …" } else { "" };
                outln!("    instructions: {}{more}", shown.join(" "));
            }
            outln!("    fix:  {}\n", f.remediation);
        }
    }
    Ok(u8::from(
        findings.iter().any(|f| f.severity > Severity::Info),
    ))
}
