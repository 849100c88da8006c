//! The action words of the language (`allow`, `errno(EPERM)`, ...) and
//! the [`Action`] each builds.

use crate::action::Action;

/// Every action word.
pub const ACTION_WORDS: &[&str] = &[
    "allow",
    "log",
    "notify",
    "user-notif",
    "kill-process",
    "kill-thread",
    "trap",
    "trace",
    "errno",
];

/// Whether a word is an action keyword.
pub fn action_word(w: &str) -> bool {
    ACTION_WORDS.contains(&w)
}

/// Whether an action word takes `(N)`: never, optionally (`trap`, `trace`,
/// 0 when absent), or always (`errno`). `None` for other words.
pub fn takes_data(w: &str) -> Option<Option<bool>> {
    match w {
        "trap" | "trace" => Some(Some(false)),
        "errno" => Some(Some(true)),
        w if action_word(w) => Some(None),
        _ => None,
    }
}

/// The action of an action word with its data (ignored by words without).
pub fn build(w: &str, data: u16) -> Option<Action> {
    Some(match w {
        "allow" => Action::Allow,
        "log" => Action::Log,
        "notify" | "user-notif" => Action::UserNotif,
        "kill-process" => Action::KillProcess,
        "kill-thread" => Action::KillThread,
        "trap" => Action::Trap(data),
        "trace" => Action::Trace(data),
        "errno" => Action::Errno(data),
        _ => return None,
    })
}
