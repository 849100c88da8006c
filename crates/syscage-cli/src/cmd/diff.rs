//! `syscage diff`: where two filters decide differently.

use super::input;
use syscage::action::Action;
use syscage::analyze::describe::arg_conditions;
use syscage::analyze::describe_word;
use syscage::analyze::diff::{diff, subset_violations, Difference};
use syscage::analyze::lift::{Limits, Verdict, WORD_ARCH, WORD_NR};
use syscage::arch::Arch;

/// Arguments of `syscage diff`.
#[derive(clap::Args)]
#[command(mut_arg("arch", |a| a.help("Architecture the filters are for; default: host")))]
pub struct Args {
    /// First filter: raw BPF or a profile.
    pub a: String,
    /// Second filter: raw BPF or a profile.
    pub b: String,
    /// `-a`.
    #[command(flatten)]
    pub arch: super::flag_groups::OneArch,
    /// Only check that A never allows what B denies (exit 0 when it does not).
    #[arg(long)]
    pub subset: bool,
    /// `--json`.
    #[command(flatten)]
    pub json: super::flag_groups::Json,
}

/// What `syscage diff --json` prints.
#[derive(serde::Serialize)]
struct DiffJson {
    subset: bool,
    differences: Vec<DifferenceJson>,
}

/// One difference: where (in words), what A and B decide there, and
/// whether the region is exact.
#[derive(serde::Serialize)]
struct DifferenceJson {
    #[serde(rename = "where")]
    region: String,
    a: String,
    b: String,
    exact: bool,
}

/// A verdict as diff prints it.
pub fn verdict(v: Verdict) -> String {
    match v {
        Verdict::Ret(r) => Action::from_ret(r).to_string(),
        Verdict::Unknown => "input-dependent".into(),
    }
}

/// Where a difference lies, in words (`amd64: write when fd == 0x1`).
pub fn describe(d: &Difference, order: syscage::bpf::ByteOrder) -> String {
    let arch = d.region[WORD_ARCH]
        .intervals
        .as_single()
        .and_then(Arch::from_audit);
    let arch_text = match (arch, d.region[WORD_ARCH].intervals.as_single()) {
        (Some(a), _) => a.name().to_string(),
        (None, Some(x)) => format!("arch {x:#x}"),
        (None, None) => describe_word("arch", &d.region[WORD_ARCH]),
    };
    let nr = &d.region[WORD_NR];
    let name = |n: u32| {
        let Some((a, _)) = arch.and_then(|a| Arch::classify(a.audit(), n)) else {
            return format!("{n:#x}");
        };
        let prefix = if a == Arch::X32 { "x32:" } else { "" };
        a.syscall_name(n)
            .map_or_else(|| format!("{n:#x}"), |s| format!("{prefix}{s}"))
    };
    let nr_text = match (nr.intervals.as_single(), arch) {
        (Some(n), Some(_)) => name(n),
        // A few numbers: name them all.
        (None, Some(_))
            if nr.intervals.count() <= 16 && nr.fixed_mask == 0 && nr.excluded.is_empty() =>
        {
            nr.intervals
                .intervals()
                .iter()
                .flat_map(|&(a, b)| a..=b)
                .map(name)
                .collect::<Vec<_>>()
                .join(", ")
        }
        _ if nr.is_any() => "any syscall".to_string(),
        _ => describe_word("sys_number", nr),
    };
    let mut conds = arg_conditions(&d.region, order, None, true);
    conds.retain(|c| !c.is_empty());
    let when = if conds.is_empty() {
        String::new()
    } else {
        format!(" when {}", conds.join(" && "))
    };
    format!("{arch_text}: {nr_text}{when}")
}

/// Runs `syscage diff`; exit 1 when the filters differ (or, with
/// `--subset`, when A allows something B denies).
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arch = args.arch.get()?;
    let a = input::load(&args.a, arch)?;
    let b = input::load(&args.b, arch)?;
    for (file, loaded) in [(&args.a, &a), (&args.b, &b)] {
        if let Some(e) = syscage::analyze::lint::kernel_refusal(&loaded.program) {
            diagln!(
                "{}: warning: the kernel would refuse this filter ({e}); analysing it anyway",
                file
            );
        }
    }
    let limits = Limits::default();
    let diffs = if args.subset {
        subset_violations(&a.program, &b.program, a.order, &limits)
    } else {
        diff(&a.program, &b.program, a.order, &limits)
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.json.json {
        let out = DiffJson {
            subset: args.subset,
            differences: diffs
                .iter()
                .map(|d| DifferenceJson {
                    region: describe(d, a.order),
                    a: verdict(d.left),
                    b: verdict(d.right),
                    exact: d.exact,
                })
                .collect(),
        };
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for d in &diffs {
            let maybe = if d.exact { "" } else { " (over-approximated)" };
            outln!(
                "{}: {} -> {}{maybe}",
                describe(d, a.order),
                verdict(d.left),
                verdict(d.right)
            );
        }
        if diffs.is_empty() {
            outln!(
                "{}",
                if args.subset {
                    "subset: A never allows what B denies"
                } else {
                    "no differences"
                }
            );
        }
    }
    Ok(u8::from(!diffs.is_empty()))
}
