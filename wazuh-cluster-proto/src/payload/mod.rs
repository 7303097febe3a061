//! Typed payloads of the Wazuh 4.x cluster commands, with strict decoders.
//!
//! Every decoder refuses trailing bytes where the format has an end, bounds every size before
//! allocating, and returns a typed error naming what was wrong and where; none panics.

pub mod agent_groups;
pub mod agent_info;
pub mod blake2b;
pub mod body_compressor;
pub mod container;
pub mod container_encoder;
pub mod container_index;
pub mod error_codes;
pub mod exception;
pub mod file_transfer;
pub mod hello;
pub mod metadata;
pub mod metadata_json;
pub mod not_master;
mod piece_cutter;
mod python_json;
pub mod raft;
pub mod relpath;
pub mod set_data;
pub mod sorted_table;
pub mod string_transfer;
pub mod task;

pub use agent_groups::{
    AGENT_GROUPS_COMMAND, AgentGroups, AgentGroupsChunk, AgentGroupsSync, GroupsHash,
    GroupsHashError,
};
pub use agent_info::{
    AGENT_INFO_COMMAND, AgentInfoRow, AgentInfoSync, AgentLabel, DEFAULT_CHUNK_BYTES,
};
pub use blake2b::{Blake2bHex, Blake2bHexError, HexText, blake2b_hex};
pub use body_compressor::BodyCompressor;
pub use container::{
    COMPRESS_LEVEL, ContainerError, ContainerFile, ContainerLimits, DecodedContainer,
    MAX_ENTRY_PATH,
};
pub use container_encoder::{
    AddOutcome, ContainerEncoder, ContainerStream, EncodedContainer, SkipReason, Skipped,
    StreamEnd, compress_body,
};
pub use container_index::{
    ContainerIndex, ContainerScanner, IndexedEntry, Inflater, decode_container,
};
pub use exception::{
    ExceptionClass, ExceptionDecodeError, WazuhException, unknown_command_payload,
};
pub use file_transfer::{
    FileEnd, FileReceiver, FileSender, FileTransferError, FileUpdate, PieceSender, TransferPath,
    sha256,
};
pub use hello::{Hello, HelloError, NodeNameError, NodeType, validate_node_name};
pub use metadata::{
    FileMetadata, FileTable, MetadataError, SyncPlan, SyncPlanPaths, check_table_paths,
    decode_file_table,
};
pub use metadata_json::{MetadataRef, PlanJson, TableJson};
pub use not_master::{MasterLocation, not_master};
pub use raft::{
    RAFT_APPEND, RAFT_PREVOTE, RAFT_SNAPSHOT, RAFT_TRANSFER, RAFT_VOTE, RaftPayloadError,
    RaftReply, RaftRequest, decode_raft, encode_raft, is_unknown_command,
};
pub use relpath::{RelPathError, validate_relpath};
pub use set_data::{SetDataEnvelope, SetDataError, pack_chunks};
pub use sorted_table::SortedTable;
pub use string_transfer::{
    DEFAULT_MAX_STRING, StringStore, StringTransferError, new_str_payload, parse_new_str,
    parse_str_upd, parse_string_id, str_upd_payload, str_upd_requests, string_id_payload,
};
pub use task::{
    SyncResult, TaskError, TaskFile, TaskId, TaskPayloadError, parse_permission, permission_payload,
};
