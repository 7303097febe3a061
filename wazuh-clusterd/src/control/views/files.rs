//! `cluster_control -f`: `NODE FILE STATE LAST CHANGE`.

use super::table::table;
use crate::control::protocol::files::FilesReply;

/// The file table of a `get_files` reply.
pub fn files_table(reply: &FilesReply) -> String {
    let rows: Vec<Vec<String>> = reply
        .items
        .iter()
        .map(|item| {
            vec![
                item.node.clone(),
                item.file.clone(),
                item.state.clone(),
                item.last_change.clone(),
            ]
        })
        .collect();
    table(&["node", "file", "state", "last change"], &rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_one_row_per_node_and_file() {
        let reply = serde_json::from_value(json!({"totalItems": 2, "items": [
            {"node": "w1", "file": "etc/client.keys", "state": "synchronized",
             "last_change": "2024-10-01T12:00:00.000000Z"},
            {"node": "worker-2", "file": "etc/shared/default/agent.conf", "state": "pending",
             "last_change": "2024-10-01T12:00:01.000000Z"}
        ]}))
        .unwrap();
        assert_eq!(
            files_table(&reply),
            "NODE      FILE                           STATE         LAST CHANGE                  \n\
             w1        etc/client.keys                synchronized  2024-10-01T12:00:00.000000Z  \n\
             worker-2  etc/shared/default/agent.conf  pending       2024-10-01T12:00:01.000000Z  "
        );
    }
}
