//! The rig's synchronized tree: `files` agent-configuration-like files under the master's
//! `etc/shared/loadtest-NNNN/` (100 per folder, about 2.6 KB each, 36 `<localfile>` blocks with
//! pseudo-random names so that they compress like real ones), and its changes.

use std::io;
use std::path::{Path, PathBuf};

/// Files per folder.
const PER_FOLDER: usize = 100;
/// `<localfile>` blocks per file.
const LINES: usize = 36;

/// The tree under one home's `etc/shared`.
#[derive(Debug, Clone)]
pub struct Tree {
    shared: PathBuf,
    files: usize,
    /// Next file to change (walked with a stride so that changes spread over the folders).
    cursor: usize,
    /// How many changes were made, written into each changed file.
    version: u64,
}

impl Tree {
    /// The tree of `files` files under `home/etc/shared`.
    pub fn new(home: &Path, files: usize) -> Self {
        Self {
            shared: home.join("etc/shared"),
            files,
            cursor: 0,
            version: 0,
        }
    }

    fn path(&self, index: usize) -> PathBuf {
        self.shared
            .join(format!("loadtest-{:04}", index / PER_FOLDER))
            .join(format!("file-{index:06}.conf"))
    }

    /// Writes every file.
    pub fn create(&self) -> io::Result<()> {
        for index in 0..self.files {
            let path = self.path(index);
            if index % PER_FOLDER == 0
                && let Some(folder) = path.parent()
            {
                std::fs::create_dir_all(folder)?;
            }
            std::fs::write(&path, content(index as u64, 0))?;
        }
        Ok(())
    }

    /// Rewrites `count` files with new content.
    pub fn change(&mut self, count: usize) -> io::Result<()> {
        if self.files == 0 {
            return Ok(());
        }
        // A stride coprime with most sizes spreads consecutive changes over the folders.
        const STRIDE: usize = 7919;
        for _ in 0..count {
            self.version += 1;
            self.cursor = (self.cursor + STRIDE) % self.files;
            std::fs::write(
                self.path(self.cursor),
                content(self.cursor as u64, self.version),
            )?;
        }
        Ok(())
    }

    /// Files changed so far.
    pub fn changes(&self) -> u64 {
        self.version
    }
}

/// The text of file `index` at `version`: deterministic, with names from a xorshift stream.
fn content(index: u64, version: u64) -> String {
    let mut state = index
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(version.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        | 1;
    let mut text = format!("<agent_config>\n  <!-- file {index}, version {version} -->\n");
    for _ in 0..LINES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(&format!(
            "  <localfile><location>/var/log/app-{state:016x}.log</location></localfile>\n"
        ));
    }
    text.push_str("</agent_config>\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_is_made_and_changes_touch_existing_files() {
        let home = tempfile::tempdir().unwrap();
        let mut tree = Tree::new(home.path(), 250);
        tree.create().unwrap();
        let count = walk(&home.path().join("etc/shared"));
        assert_eq!(count, 250);
        let before = std::fs::read_to_string(tree.path(7919 % 250)).unwrap();
        assert!((2000..3500).contains(&before.len()), "{}", before.len());
        tree.change(3).unwrap();
        assert_eq!(tree.changes(), 3);
        assert_ne!(
            std::fs::read_to_string(tree.path(7919 % 250)).unwrap(),
            before
        );
        assert_eq!(walk(&home.path().join("etc/shared")), 250);
    }

    fn walk(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    }
}
