//! From a positioned JSON tree ([`super::json`]) to a [`Profile`], checking
//! every field and naming the path and position of the first bad one.

use super::error::{ProfileError, ProfileErrorKind as K};
use super::json::{self, Node, Number, Pos, Value};
use super::model::*;
use super::names;
use std::collections::HashMap;

/// Positions of the values of a parsed profile, by JSON path, so that
/// errors found later (e.g. an unsupported arch selected at resolve time)
/// can still name a line and column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spans(HashMap<String, Pos>);

impl Spans {
    /// The position of the value at `path`, if it was in the text.
    pub fn get(&self, path: &str) -> Option<Pos> {
        self.0.get(path).copied()
    }

    /// Fills in the position of an error that lacks one.
    pub fn locate(&self, mut e: ProfileError) -> ProfileError {
        if e.pos.is_none() {
            e.pos = self.get(&e.path);
        }
        e
    }
}

/// Parses profile text (Docker dialect or OCI `linux.seccomp`).
pub fn parse(text: &str) -> Result<(Profile, Spans), ProfileError> {
    let root = json::parse(text).map_err(|e| ProfileError {
        path: "$".to_string(),
        pos: Some(e.pos),
        kind: K::Syntax(e.message),
    })?;
    let mut d = Decoder {
        spans: Spans::default(),
    };
    let profile = d.profile(&root)?;
    Ok((profile, d.spans))
}

fn err(path: &str, pos: Pos, kind: K) -> ProfileError {
    ProfileError {
        path: path.to_string(),
        pos: Some(pos),
        kind,
    }
}

fn wrong(path: &str, node: &Node, expected: &'static str) -> ProfileError {
    err(
        path,
        node.pos,
        K::WrongType {
            expected,
            found: node.value.type_name(),
        },
    )
}

/// The members of one object, taken one by one; what is left is unknown.
struct Fields<'n> {
    path: String,
    allowed: &'static str,
    members: Vec<(&'n str, Pos, &'n Node, bool)>,
}

impl<'n> Fields<'n> {
    fn new(node: &'n Node, path: &str, allowed: &'static str) -> Result<Fields<'n>, ProfileError> {
        let Value::Object(members) = &node.value else {
            return Err(wrong(path, node, "an object"));
        };
        let mut seen: Vec<&str> = Vec::new();
        for (k, pos, _) in members {
            if seen.contains(&k.as_str()) {
                return Err(err(&child(path, k), *pos, K::DuplicateField(k.clone())));
            }
            seen.push(k);
        }
        Ok(Fields {
            path: path.to_string(),
            allowed,
            members: members
                .iter()
                .map(|(k, p, v)| (k.as_str(), *p, v, false))
                .collect(),
        })
    }

    /// The value of `key`, unless absent or `null` (Go's decoder treats
    /// `null` as the zero value, and moby's own file has `null`s).
    fn take(&mut self, key: &str) -> Option<(String, &'n Node)> {
        let m = self.members.iter_mut().find(|m| m.0 == key)?;
        m.3 = true;
        if m.2.value == Value::Null {
            None
        } else {
            Some((child(&self.path, key), m.2))
        }
    }

    fn finish(self) -> Result<(), ProfileError> {
        match self.members.iter().find(|m| !m.3) {
            Some((k, pos, _, _)) => Err(err(
                &child(&self.path, k),
                *pos,
                K::UnknownField(k.to_string(), self.allowed),
            )),
            None => Ok(()),
        }
    }
}

fn child(path: &str, key: &str) -> String {
    if path == "$" {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

struct Decoder {
    spans: Spans,
}

impl Decoder {
    fn mark(&mut self, path: &str, node: &Node) {
        self.spans.0.insert(path.to_string(), node.pos);
    }

    fn string(&mut self, path: &str, node: &Node) -> Result<String, ProfileError> {
        self.mark(path, node);
        match &node.value {
            Value::String(s) => Ok(s.clone()),
            _ => Err(wrong(path, node, "a string")),
        }
    }

    fn unsigned(&mut self, path: &str, node: &Node, max: u64) -> Result<u64, ProfileError> {
        self.mark(path, node);
        match &node.value {
            Value::Number(Number::Unsigned(v)) if *v <= max => Ok(*v),
            Value::Number(Number::Unsigned(v)) => Err(err(
                path,
                node.pos,
                K::OutOfRange {
                    value: v.to_string(),
                    max,
                },
            )),
            Value::Number(Number::Other(text)) => {
                let integer = !text.contains(['.', 'e', 'E']);
                if integer && !text.starts_with('-') {
                    Err(err(
                        path,
                        node.pos,
                        K::OutOfRange {
                            value: text.clone(),
                            max,
                        },
                    ))
                } else {
                    Err(err(
                        path,
                        node.pos,
                        K::WrongType {
                            expected: "an unsigned integer",
                            found: if integer {
                                "a negative number"
                            } else {
                                "a fractional number"
                            },
                        },
                    ))
                }
            }
            _ => Err(wrong(path, node, "an unsigned integer")),
        }
    }

    fn array<'n>(
        &mut self,
        path: &str,
        node: &'n Node,
    ) -> Result<Vec<(String, &'n Node)>, ProfileError> {
        self.mark(path, node);
        match &node.value {
            Value::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, n)| (format!("{path}[{i}]"), n))
                .collect()),
            _ => Err(wrong(path, node, "an array")),
        }
    }

    fn strings(
        &mut self,
        path: &str,
        node: &Node,
    ) -> Result<Vec<(String, Pos, String)>, ProfileError> {
        let mut out = Vec::new();
        for (p, n) in self.array(path, node)? {
            let s = self.string(&p, n)?;
            out.push((p, n.pos, s));
        }
        Ok(out)
    }

    /// An array of strings whose item positions are not kept (item paths
    /// are only built for an error).
    fn plain_strings(&mut self, path: &str, node: &Node) -> Result<Vec<String>, ProfileError> {
        self.mark(path, node);
        let Value::Array(items) = &node.value else {
            return Err(wrong(path, node, "an array"));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, n)| match &n.value {
                Value::String(s) => Ok(s.clone()),
                _ => Err(wrong(&format!("{path}[{i}]"), n, "a string")),
            })
            .collect()
    }

    fn action(&mut self, path: &str, node: &Node) -> Result<ActionName, ProfileError> {
        let s = self.string(path, node)?;
        ActionName::from_name(&s).ok_or_else(|| err(path, node.pos, K::UnknownAction(s)))
    }

    fn scmp_arch(&mut self, path: &str, node: &Node) -> Result<String, ProfileError> {
        let s = self.string(path, node)?;
        if names::is_scmp_arch(&s) {
            Ok(s)
        } else {
            Err(err(
                path,
                node.pos,
                K::UnknownArch(s, "an SCMP_ARCH_* name such as SCMP_ARCH_X86_64"),
            ))
        }
    }

    /// `errnoRet` (or `defaultErrnoRet`) with Podman's `errno` name, checked
    /// against the action.
    fn errno_pair(
        &mut self,
        f: &mut Fields<'_>,
        ret_key: &str,
        name_key: &str,
        action: ActionName,
    ) -> Result<(Option<u16>, Option<String>), ProfileError> {
        let mut ret = None;
        if let Some((p, n)) = f.take(ret_key) {
            let v = self.unsigned(&p, n, u64::from(u16::MAX))? as u16;
            if !action.takes_data() {
                return Err(err(&p, n.pos, K::ErrnoRetOnAction(action.as_str())));
            }
            ret = Some((v, p, n.pos));
        }
        let mut name = None;
        if let Some((p, n)) = f.take(name_key) {
            let s = self.string(&p, n)?;
            let Some(by_name) = names::errno_number(&s) else {
                return Err(err(&p, n.pos, K::UnknownErrno(s)));
            };
            if !action.takes_data() {
                return Err(err(&p, n.pos, K::ErrnoRetOnAction(action.as_str())));
            }
            if let Some((value, _, _)) = ret {
                if value != by_name {
                    return Err(err(
                        &p,
                        n.pos,
                        K::ErrnoMismatch {
                            name: s,
                            by_name,
                            value,
                        },
                    ));
                }
            }
            name = Some(s);
        }
        Ok((ret.map(|r| r.0), name))
    }

    fn profile(&mut self, root: &Node) -> Result<Profile, ProfileError> {
        const FIELDS: &str = "defaultAction, defaultErrnoRet, defaultErrno, architectures, archMap, syscalls, flags, listenerPath, listenerMetadata";
        let mut f = Fields::new(root, "$", FIELDS)?;
        let Some((p, n)) = f.take("defaultAction") else {
            return Err(err("$", root.pos, K::MissingField("defaultAction")));
        };
        let default_action = self.action(&p, n)?;
        let mut profile = Profile::new(default_action);
        (profile.default_errno_ret, profile.default_errno) =
            self.errno_pair(&mut f, "defaultErrnoRet", "defaultErrno", default_action)?;
        if let Some((p, n)) = f.take("architectures") {
            for (p, n) in self.array(&p, n)? {
                profile.architectures.push(self.scmp_arch(&p, n)?);
            }
        }
        if let Some((p, n)) = f.take("archMap") {
            if !profile.architectures.is_empty() {
                return Err(err(&p, n.pos, K::ArchitecturesAndArchMap));
            }
            for (p, n) in self.array(&p, n)? {
                profile.arch_map.push(self.arch_map_entry(&p, n)?);
            }
        }
        if let Some((p, n)) = f.take("syscalls") {
            for (p, n) in self.array(&p, n)? {
                profile.syscalls.push(self.syscall(&p, n)?);
            }
        }
        if let Some((p, n)) = f.take("flags") {
            for (p, pos, s) in self.strings(&p, n)? {
                let flag =
                    FlagName::from_name(&s).ok_or_else(|| err(&p, pos, K::UnknownFlag(s)))?;
                profile.flags.push(flag);
            }
        }
        if let Some((p, n)) = f.take("listenerPath") {
            profile.listener_path = Some(self.string(&p, n)?);
        }
        if let Some((p, n)) = f.take("listenerMetadata") {
            profile.listener_metadata = Some(self.string(&p, n)?);
        }
        f.finish()?;
        Ok(profile)
    }

    fn arch_map_entry(&mut self, path: &str, node: &Node) -> Result<ArchMapEntry, ProfileError> {
        self.mark(path, node);
        let mut f = Fields::new(node, path, "architecture, subArchitectures")?;
        let Some((p, n)) = f.take("architecture") else {
            return Err(err(path, node.pos, K::MissingField("architecture")));
        };
        let architecture = self.scmp_arch(&p, n)?;
        let mut sub_architectures = None;
        if let Some((p, n)) = f.take("subArchitectures") {
            let mut subs = Vec::new();
            for (p, n) in self.array(&p, n)? {
                subs.push(self.scmp_arch(&p, n)?);
            }
            sub_architectures = Some(subs);
        }
        f.finish()?;
        Ok(ArchMapEntry {
            architecture,
            sub_architectures,
        })
    }

    fn syscall(&mut self, path: &str, node: &Node) -> Result<SyscallEntry, ProfileError> {
        const FIELDS: &str =
            "names, name, action, errnoRet, errno, args, comment, includes, excludes";
        self.mark(path, node);
        let mut f = Fields::new(node, path, FIELDS)?;
        let name = match f.take("name") {
            Some((p, n)) => Some((self.string(&p, n)?, p, n.pos)),
            None => None,
        };
        let mut names = Vec::new();
        if let Some((p, n)) = f.take("names") {
            names = self.plain_strings(&p, n)?;
            if let Some((_, np, npos)) = &name {
                if !names.is_empty() {
                    return Err(err(np, *npos, K::NameAndNames));
                }
            }
        }
        let name = name.map(|(s, _, _)| s);
        if name.as_deref().unwrap_or_default().is_empty() && names.is_empty() {
            return Err(err(path, node.pos, K::NoName));
        }
        let Some((p, n)) = f.take("action") else {
            return Err(err(path, node.pos, K::MissingField("action")));
        };
        let action = self.action(&p, n)?;
        let (errno_ret, errno) = self.errno_pair(&mut f, "errnoRet", "errno", action)?;
        let mut args = Vec::new();
        if let Some((p, n)) = f.take("args") {
            for (p, n) in self.array(&p, n)? {
                args.push(self.arg(&p, n)?);
            }
        }
        let comment = match f.take("comment") {
            Some((p, n)) => Some(self.string(&p, n)?),
            None => None,
        };
        let includes = match f.take("includes") {
            Some((p, n)) => Some(self.filter(&p, n)?),
            None => None,
        };
        let excludes = match f.take("excludes") {
            Some((p, n)) => Some(self.filter(&p, n)?),
            None => None,
        };
        f.finish()?;
        Ok(SyscallEntry {
            name,
            names,
            action,
            errno_ret,
            errno,
            args,
            comment,
            includes,
            excludes,
        })
    }

    fn arg(&mut self, path: &str, node: &Node) -> Result<ArgCond, ProfileError> {
        self.mark(path, node);
        let mut f = Fields::new(node, path, "index, value, valueTwo, op")?;
        let Some((p, n)) = f.take("index") else {
            return Err(err(path, node.pos, K::MissingField("index")));
        };
        self.mark(&p, n);
        let index = match &n.value {
            Value::Number(Number::Unsigned(v)) if *v > 5 => {
                return Err(err(&p, n.pos, K::ArgIndex(*v)))
            }
            _ => self.unsigned(&p, n, 5)? as u8,
        };
        let Some((p, n)) = f.take("value") else {
            return Err(err(path, node.pos, K::MissingField("value")));
        };
        let value = self.unsigned(&p, n, u64::MAX)?;
        let value_two = match f.take("valueTwo") {
            Some((p, n)) => self.unsigned(&p, n, u64::MAX)?,
            None => 0,
        };
        let Some((p, n)) = f.take("op") else {
            return Err(err(path, node.pos, K::MissingField("op")));
        };
        let s = self.string(&p, n)?;
        let op = OpName::from_name(&s).ok_or_else(|| err(&p, n.pos, K::UnknownOperator(s)))?;
        f.finish()?;
        Ok(ArgCond {
            index,
            value,
            value_two,
            op,
        })
    }

    fn filter(&mut self, path: &str, node: &Node) -> Result<Filter, ProfileError> {
        self.mark(path, node);
        let mut f = Fields::new(node, path, "arches, caps, minKernel")?;
        let mut filter = Filter::default();
        if let Some((p, n)) = f.take("arches") {
            for (p, pos, s) in self.strings(&p, n)? {
                if !names::is_moby_arch(&s) {
                    return Err(err(
                        &p,
                        pos,
                        K::UnknownArch(s, "a moby arch name such as amd64, arm64, x86, x32, s390x"),
                    ));
                }
                filter.arches.push(s);
            }
        }
        if let Some((p, n)) = f.take("caps") {
            filter.caps = self.plain_strings(&p, n)?;
        }
        if let Some((p, n)) = f.take("minKernel") {
            let s = self.string(&p, n)?;
            let v = KernelVersion::parse(&s).ok_or_else(|| err(&p, n.pos, K::KernelVersion(s)))?;
            filter.min_kernel = Some(v);
        }
        f.finish()?;
        Ok(filter)
    }
}
