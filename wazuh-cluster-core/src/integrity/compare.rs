//! The master's comparison of its table with a worker's, into missing / shared / extra.

use thiserror::Error;
use wazuh_cluster_proto::payload::FileTable;

use super::master_files::MasterFiles;
use super::packed::Packed;
use super::plan::ContainerPlan;
use super::sorted_join::{Joined, outer_join};
use super::worker_files::WorkerFiles;
use crate::files::ClusterItems;

/// A worker's table was refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum CompareError {
    /// An entry names an item the master does not synchronize.
    #[error(
        "worker metadata for {path:?} names cluster item {item_key:?}, which this master does not \
         synchronize; the worker's cluster items differ from the master's: align their versions"
    )]
    UnknownItem {
        /// The worker's path.
        path: String,
        /// The unknown `cluster_item_key`.
        item_key: String,
    },
}

/// How many files a comparison found in each part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComparisonCounts {
    /// Files only the master has.
    pub missing: usize,
    /// Files both have with different content.
    pub shared: usize,
    /// Files only the worker has (and that it must remove).
    pub extra: usize,
}

impl ComparisonCounts {
    /// The counts of a plan.
    pub fn of<E>(plan: &ContainerPlan<E>) -> Self {
        ComparisonCounts {
            missing: plan.missing.len(),
            shared: plan.shared.len(),
            extra: plan.extra.len(),
        }
    }

    /// Whether nothing differs (Wazuh then answers `syn_m_c_ok`: "Sync not required").
    pub fn is_empty(&self) -> bool {
        self.missing == 0 && self.shared == 0 && self.extra == 0
    }
}

/// Compares as Wazuh's `compare_files`: `missing` = master − worker (master's metadata),
/// `shared` = in both with a different hash (master's metadata), `extra` = worker − master
/// (worker's metadata), left out when its item has `extra_valid`. Every worker entry must name
/// a known item, or the whole table is refused. The master's files are read where they are,
/// and the plan holds [`MasterFiles::planned`] of those that differ (the table's own entry).
/// Both tables are walked together in path order, each path compared once, not looked up.
pub fn compare<M: MasterFiles + ?Sized, W: WorkerFiles + ?Sized>(
    master: &M,
    worker: &W,
    items: &ClusterItems,
) -> Result<ContainerPlan<M::Planned>, CompareError> {
    let mut plan = ContainerPlan::default();
    let mut extra = Packed::<FileTable>::default();
    for (path, side) in outer_join(worker.files_by_path(), master.entries_by_path()) {
        match side {
            Joined::Right(entry) => plan.missing.push(M::planned(path, entry)),
            Joined::Left(theirs) | Joined::Both(theirs, _) => {
                let Some(item) = items.get(&theirs.cluster_item_key) else {
                    return Err(CompareError::UnknownItem {
                        path: path.to_owned(),
                        item_key: theirs.cluster_item_key.clone(),
                    });
                };
                match side {
                    Joined::Left(_) if !item.extra_valid => {
                        extra.insert((path.to_owned(), theirs.clone()));
                    }
                    Joined::Both(_, entry) if theirs.hash != *M::hash(entry) => {
                        plan.shared.push(M::planned(path, entry));
                    }
                    _ => {}
                }
            }
        }
    }
    plan.extra = extra.into_inner();
    Ok(plan)
}
