//! sqlx's errors as the core's [`StorageError`], of the kind that tells a caller what happened:
//! a pool closed by the node's stop ([`StorageErrorKind::Closed`]), every connection busy for
//! the whole acquire timeout ([`StorageErrorKind::Busy`]), or a failure.

use wazuh_cluster_core::{StorageError, StorageErrorKind};

use super::pool::ACQUIRE_TIMEOUT;

/// `error` of `operation`, of its kind.
pub(super) fn storage_error(operation: impl Into<String>, error: sqlx::Error) -> StorageError {
    let kind = match &error {
        sqlx::Error::PoolClosed => StorageErrorKind::Closed,
        sqlx::Error::PoolTimedOut => StorageErrorKind::Busy(ACQUIRE_TIMEOUT),
        _ => StorageErrorKind::Failed,
    };
    StorageError::new(operation, error).with_kind(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_sqlx() {
        let closed = storage_error("read the groups", sqlx::Error::PoolClosed);
        assert_eq!(closed.kind, StorageErrorKind::Closed);
        let busy = storage_error("read the groups", sqlx::Error::PoolTimedOut);
        assert_eq!(busy.kind, StorageErrorKind::Busy(ACQUIRE_TIMEOUT));
        assert!(busy.to_string().contains("overloaded"), "{busy}");
        let failed = storage_error("read the groups", sqlx::Error::RowNotFound);
        assert_eq!(failed.kind, StorageErrorKind::Failed);
        assert!(failed.to_string().contains("health"), "{failed}");
    }
}
