//! Symbolic analysis of programs: lifting to decision tables, explain,
//! lint, diff, decompile.
