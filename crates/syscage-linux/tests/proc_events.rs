//! A program's process tree rebuilt from the kernel's fork events
//! (`NETLINK_CONNECTOR`), the way `syscage run --log` tells its records
//! from those of the rest of the machine.

mod child;

use child::not_checked;
use std::process::Command;
use syscage_linux::proc_events::ForkWatch;

#[test]
fn descendants_are_the_programs_tree_and_nothing_else() {
    let watch = match ForkWatch::start() {
        Ok(w) => w,
        Err(e) => {
            return not_checked(&format!(
                "cannot listen to process events (needs root): {e}"
            ));
        }
    };
    // Started meanwhile, not by the program.
    let mut other = Command::new("sleep").arg("0.3").spawn().unwrap();
    // Each shell prints its pid: the program, its child, its grandchild.
    let out = Command::new("sh")
        .args(["-c", r#"echo $$; sh -c 'echo $$; sh -c "echo \$\$"'"#])
        .output()
        .unwrap();
    assert!(out.status.success());
    let pids: Vec<u32> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 3, "{pids:?}");
    let other_pid = other.id();
    other.wait().unwrap();
    let log = watch.finish();
    assert!(!log.overflowed);
    let tree = log.descendants(pids[0], None);
    for p in &pids {
        assert!(tree.contains(p), "{p} missing from {tree:?}");
    }
    assert!(
        !tree.contains(&other_pid),
        "{other_pid} is not the program's"
    );
    assert!(!tree.contains(&std::process::id()));
    // The test forked both: with itself as the adopter, both are in.
    let adopted = log.descendants(pids[0], Some(std::process::id()));
    assert!(adopted.contains(&other_pid));
}
