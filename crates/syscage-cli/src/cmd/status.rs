//! `syscage status`: seccomp mode, filter count and no_new_privs of
//! processes, from `/proc/PID/status`.

use anyhow::anyhow;
use serde::Serialize;
use syscage_linux::status::{self, ProcStatus};

/// Arguments of `syscage status`.
#[derive(clap::Args)]
#[command(mut_arg("json", |a| a.help("Print JSON (an array of objects)")))]
pub struct Args {
    /// Process ids (default: every process).
    #[arg(value_name = "PID")]
    pub pids: Vec<u32>,
    /// `--json`.
    #[command(flatten)]
    pub json: super::flag_groups::Json,
}

#[derive(Serialize)]
struct Row<'a> {
    pid: u32,
    command: &'a str,
    /// `disabled`, `strict`, `filter`, or null without CONFIG_SECCOMP.
    mode: Option<&'static str>,
    filters: Option<u32>,
    no_new_privs: Option<bool>,
}

fn row(s: &ProcStatus) -> Row<'_> {
    Row {
        pid: s.pid,
        command: &s.command,
        mode: s.mode.map(|m| m.name()),
        filters: s.filters,
        no_new_privs: s.no_new_privs,
    }
}

/// Runs `syscage status`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let list = if args.pids.is_empty() {
        status::all().map_err(|e| anyhow!("{e}"))?
    } else {
        args.pids
            .iter()
            .map(|&p| status::read(p).map_err(|e| anyhow!("process {p}: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    if args.json.json {
        let rows: Vec<Row> = list.iter().map(row).collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    outln!(
        "{:>7}  {:<16}  {:<8}  {:>7}  {:>3}",
        "PID",
        "COMMAND",
        "MODE",
        "FILTERS",
        "NNP"
    );
    for s in &list {
        outln!(
            "{:>7}  {:<16}  {:<8}  {:>7}  {:>3}",
            s.pid,
            s.command,
            s.mode.map_or("-", |m| m.name()),
            opt(s.filters.map(|f| f.to_string())),
            opt(s
                .no_new_privs
                .map(|b| if b { "yes" } else { "no" }.to_string())),
        )
    }
    Ok(0)
}
