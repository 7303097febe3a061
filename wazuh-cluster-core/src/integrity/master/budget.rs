//! How large a worker's integrity file may be on the master. A worker sends only
//! `files_metadata.json` (one entry, about 200 bytes a file), so the bounds follow the number
//! of files the master synchronizes, with room for as many extra files on the worker, instead of
//! the 1 GiB / 2 GiB a container of file contents may take. A hostile worker's metadata bomb is
//! refused before it is inflated or parsed.

use wazuh_cluster_proto::payload::ContainerLimits;

use crate::transfer::InboxLimits;

/// Allowance for the metadata of an empty or tiny table.
pub const BASE_BYTES: u64 = 8 << 20;
/// Allowance per file of the master's table, inflated (twice the largest entry seen in
/// practice), counted twice so the worker may hold as many extra files.
pub const PER_FILE_BYTES: u64 = 2 << 10;

/// The inbox and decoding bounds of a worker's integrity file when the master synchronizes
/// `master_files` files, never above the configured `inbox` and `container` bounds.
pub fn worker_file_limits(
    master_files: usize,
    inbox: InboxLimits,
    container: ContainerLimits,
) -> (InboxLimits, ContainerLimits) {
    let files = u64::try_from(master_files).unwrap_or(u64::MAX);
    let bytes = BASE_BYTES.saturating_add(files.saturating_mul(2 * PER_FILE_BYTES));
    (
        InboxLimits {
            max_file_size: bytes.min(inbox.max_file_size),
            max_files: inbox.max_files,
        },
        ContainerLimits {
            max_decompressed: bytes.min(container.max_decompressed),
            max_entries: 1,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_follows_the_table_and_never_exceeds_the_configuration() {
        let inbox = InboxLimits {
            max_file_size: 1 << 30,
            max_files: 4,
        };
        let container = ContainerLimits::default();
        let (i, c) = worker_file_limits(0, inbox, container);
        assert_eq!((i.max_file_size, c.max_decompressed), (8 << 20, 8 << 20));
        assert_eq!(c.max_entries, 1);
        let (i, c) = worker_file_limits(50_000, inbox, container);
        assert_eq!(i.max_file_size, (8 << 20) + 50_000 * 4096);
        assert_eq!(c.max_decompressed, i.max_file_size);
        let (i, c) = worker_file_limits(usize::MAX, inbox, container);
        assert_eq!((i.max_file_size, c.max_decompressed), (1 << 30, 2 << 30));
    }
}
