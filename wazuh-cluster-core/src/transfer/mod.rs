//! What both roles need to move a file over a session: the bounded inbox of
//! `new_file`/`file_upd`/`file_end` writing to a spool, and the hand-over of a complete file to the task waiting
//! for it, the sender of that sequence, task ids, and a set of
//! background tasks owned by the node (dropped with it).

mod followed;
mod inbox;
mod receive;
mod send;
mod spool;
mod task_id;
mod task_set;

pub use followed::{FollowedFile, FollowedFiles, FollowedSpool};
pub use inbox::{FileInbox, InboxError, InboxLimits};
pub use receive::{
    FileOutcome, HandOverError, SharedInbox, TransferStep, WaitingTask, hand_over,
    receive_blocking, wait_for_file,
};
pub use send::{FileUpload, MAX_PIECE, SendFileError, send_file, sync_file_name};
pub use spool::{MemorySpool, ReceivedFile, Spool, SpoolFile, SpoolReader};
pub use task_id::new_task_id;
pub use task_set::{PendingTasks, TaskSet, TaskSpawner};
