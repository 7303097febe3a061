//! The FileSource conformance suite on the in-memory source.

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::conformance;
use wazuh_cluster_core::files::memory::MemoryFileSource;

#[tokio::test]
async fn memory_file_source_passes_the_conformance_suite() {
    conformance::run_all(|| MemoryFileSource::new(ClusterItems::wazuh_default())).await;
}
