//! What can go wrong when reading the `<cluster>` block, and what is only worth a warning.

use std::path::PathBuf;

use thiserror::Error;

use super::key::KeyError;

/// Why a configuration could not be loaded.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not well-formed XML, so nothing in it can be trusted.
    #[error("the configuration is not well-formed XML (line {line}): {message}")]
    Xml {
        /// 1-based line where the parser stopped.
        line: usize,
        /// The parser's description of the problem.
        message: String,
    },
    /// The XML is fine but values in `<cluster>` are not: every problem found, in file order,
    /// and the warnings (unknown or repeated tags) found on the way.
    #[error("{} problem(s) in the <cluster> configuration: {}", errors.len(), join_problems(errors))]
    Invalid {
        /// Every problem, in file order.
        errors: Vec<FieldError>,
        /// Unknown or repeated tags, in file order.
        warnings: Vec<ConfigWarning>,
    },
}

impl ConfigError {
    /// Every problem as its own line of text, ready to print one per line (for `-t`).
    pub fn problems(&self) -> Vec<String> {
        match self {
            ConfigError::Invalid { errors, .. } => errors.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }

    /// The warnings found before the problems stopped the check (empty for read and XML errors).
    pub fn warnings(&self) -> &[ConfigWarning] {
        match self {
            ConfigError::Invalid { warnings, .. } => warnings,
            _ => &[],
        }
    }
}

fn join_problems(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One rejected value of the `<cluster>` block. Each names the field, the value (except the
/// secret key's) and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldError {
    /// A value outside what the field allows.
    #[error("{field} = {value:?} (line {line}): {allowed}")]
    Invalid {
        /// The field, as a path below `<cluster>` (`port`, `intervals/keep_alive`).
        field: String,
        /// The text found.
        value: String,
        /// 1-based line of the element.
        line: usize,
        /// What is allowed instead.
        allowed: String,
    },
    /// A field the enabled cluster cannot run without.
    #[error("{field} is missing: {allowed}")]
    Missing {
        /// The field, as a path below `<cluster>`.
        field: &'static str,
        /// What to write there.
        allowed: &'static str,
    },
    /// The key is not a valid cluster key (its value is never printed).
    #[error("key (line {line}): {source}")]
    Key {
        /// The precise reason.
        source: KeyError,
        /// 1-based line of `<key>`.
        line: usize,
    },
    /// A `<node>` entry that Wazuh reserves as a placeholder.
    #[error(
        "nodes/node = {value:?} (line {line}): reserved placeholder; write the real IP address or \
         host name of the master (localhost, NODE_IP, 0.0.0.0 and 127.0.1.1 are refused; 127.0.0.1 is fine)"
    )]
    ReservedNode {
        /// The entry.
        value: String,
        /// 1-based line of `<node>`.
        line: usize,
    },
    /// The same address listed twice in `<nodes>`.
    #[error(
        "nodes/node = {value:?} (line {line}): listed twice (first on line {first_line}); every node \
         address must appear once"
    )]
    DuplicateNode {
        /// The repeated entry.
        value: String,
        /// 1-based line of the repetition.
        line: usize,
        /// 1-based line of the first occurrence.
        first_line: usize,
    },
    /// With several `<node>` entries (3.x style), none is an address of this machine.
    #[error(
        "nodes = [{listed}]: none of these is an address of this machine; with several <node> \
         entries, this node's own IP address must be one of them (or list only the master's address)"
    )]
    SelfNotFound {
        /// The entries, comma-separated.
        listed: String,
    },
    /// With `<failover>`, fewer than three master-eligible nodes.
    #[error(
        "nodes = [{listed}]: with <failover>yes</failover> list at least 3 master-eligible nodes \
         (3 or 5: a majority must survive a failure), or set <failover>no</failover>"
    )]
    FailoverTooFewNodes {
        /// The entries, comma-separated.
        listed: String,
    },
    /// With `<failover>`, a master-eligible node whose own address is not in `<nodes>`.
    #[error(
        "nodes = [{listed}]: with <failover>yes</failover> every <node> is a master-eligible node \
         and this one (node_type master, port {port}) must be listed: add this machine's IP \
         address (with :{port} when the nodes share a machine), or make this node a worker"
    )]
    FailoverSelfNotFound {
        /// The entries, comma-separated.
        listed: String,
        /// This node's `<port>`.
        port: u16,
    },
    /// A master listing several nodes (3.x style) whose own address is not the first.
    #[error(
        "nodes = [{listed}]: this node is the master, so its own address ({own}) must be the first \
         <node> entry"
    )]
    MasterNotFirst {
        /// The entries, comma-separated.
        listed: String,
        /// The first entry that is an address of this machine.
        own: String,
    },
}

/// Something in `<cluster>` that does not stop the node but that the operator should see.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigWarning {
    /// A tag this implementation does not know: it is ignored, not silently taken.
    #[error("unknown tag <{tag}> in <{parent}> (line {line}) ignored")]
    UnknownTag {
        /// The tag's name.
        tag: String,
        /// The enclosing element (`cluster`, `nodes`, `intervals`, or a field's own tag).
        parent: String,
        /// 1-based line.
        line: usize,
    },
    /// A field given more than once (also across several `<cluster>` blocks): the last one wins.
    #[error(
        "<{tag}> given again on line {line}; the value on line {line} replaces the earlier one"
    )]
    Repeated {
        /// The tag's name.
        tag: String,
        /// 1-based line of the later occurrence.
        line: usize,
    },
}

impl ConfigWarning {
    /// 1-based line the warning is about.
    pub fn line(&self) -> usize {
        match self {
            ConfigWarning::UnknownTag { line, .. } | ConfigWarning::Repeated { line, .. } => *line,
        }
    }
}
