//! Rebuilds the crate when a migration is added, changed or removed: `sqlx::migrate!()` embeds
//! `migrations/*.sql` at compile time, and an incremental build would otherwise keep the old set.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
