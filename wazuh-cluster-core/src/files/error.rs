//! The errors of a [`FileSource`](super::FileSource).

use thiserror::Error;

use super::ConfinementError;

/// A file operation failed or was refused. Refusals (confinement, symlink escape, unknown item)
/// touch nothing.
#[derive(Debug, Error)]
pub enum FileSourceError {
    /// The path is not a confined relative path of a synchronized item.
    #[error(transparent)]
    Confinement(#[from] ConfinementError),
    /// The path belongs to an item this source is not configured with.
    #[error(
        "path {path:?} belongs to item {item_key:?}, which this file source does not know: build both from the same cluster items"
    )]
    UnknownItem {
        /// The path.
        path: String,
        /// Its item key.
        item_key: String,
    },
    /// A symbolic link on the way leads outside the item's folder.
    #[error(
        "path {path:?} refused: a symbolic link on it leads outside its cluster item's folder; remove the link"
    )]
    SymlinkEscape {
        /// The path.
        path: String,
    },
    /// The file does not exist.
    #[error("file {path:?} does not exist")]
    NotFound {
        /// The path.
        path: String,
    },
    /// Something that is not a regular file (or, for a parent, not a folder) is in the way.
    #[error(
        "{path:?} is in the way: expected a regular file and folders above it; remove or rename it"
    )]
    WrongKind {
        /// The path.
        path: String,
    },
    /// The file is larger than the caller allows.
    #[error("file {path:?} has {size} bytes, more than the {limit} allowed")]
    TooLarge {
        /// The path.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The operating system reported an error.
    #[error("cannot {operation} {path:?}: {source}")]
    Io {
        /// What was attempted (`read`, `write`, `rename`, `list`, ...).
        operation: &'static str,
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}
