//! What the crash tests share: their knobs from the environment and the database check.

use std::path::Path;

/// The number in environment variable `name`, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The node's `var/db/cluster.db` opens and passes `PRAGMA integrity_check`.
pub fn assert_database_opens(home: &Path, round: u64) {
    let db = home.join("var/db/cluster.db");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("round {round}: {} does not open: {e}", db.display()));
        let check: (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            check.0, "ok",
            "round {round}: integrity_check of the database"
        );
    });
}
