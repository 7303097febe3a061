//! The conformance suite of [`FileSource`]: `pub async fn` checks any backend runs through a
//! [`Fixture`] (a fresh home per check), or all at once with [`run_all`]. A failed check panics
//! with what was expected.

use std::collections::BTreeMap;

use wazuh_cluster_proto::payload::blake2b_hex;

use super::{ClusterItem, ClusterItems, Exclusions, FileSelection};
use super::{FileSource, FileSourceError, ModTime, SyncPath};

/// A fresh home with Wazuh's default items, plus the means to arrange and inspect it behind the
/// back of the [`FileSource`] under test.
pub trait Fixture {
    /// The source under test.
    type Source: FileSource;
    /// The source under test, serving [`ClusterItems::wazuh_default`].
    fn source(&self) -> &Self::Source;
    /// Creates a file (and its folders) anywhere in the home, even outside the items.
    fn plant_file(&self, relpath: &str, contents: &[u8]);
    /// Creates a symbolic link at `relpath` to a folder outside the home holding one file,
    /// `victim`.
    fn plant_dir_link_outside(&self, relpath: &str);
    /// Creates a symbolic link at `relpath` to the file `victim` outside the home.
    fn plant_file_link_outside(&self, relpath: &str);
    /// Sets a file's modification time.
    fn set_mtime(&self, relpath: &str, mtime: ModTime);
    /// A regular file's content (`None` if there is no regular file there).
    fn contents(&self, relpath: &str) -> Option<Vec<u8>>;
    /// A regular file's permission bits (`& 0o777`).
    fn mode(&self, relpath: &str) -> Option<u32>;
    /// Whether a folder exists there.
    fn dir_exists(&self, relpath: &str) -> bool;
    /// The names in a folder, sorted.
    fn entries_in(&self, relpath: &str) -> Vec<String>;
    /// Every file outside the home that the links lead to, by name, with its content.
    fn outside(&self) -> BTreeMap<String, Vec<u8>>;
}

/// Whether a result is a symlink-escape refusal.
fn escape<T>(result: &Result<T, FileSourceError>) -> bool {
    matches!(result, Err(FileSourceError::SymlinkEscape { .. }))
}

fn path(items: &ClusterItems, raw: &str) -> SyncPath {
    items
        .confine(raw)
        .unwrap_or_else(|e| panic!("test path {raw:?} should be confined: {e}"))
}

/// Runs every check, each on a fresh fixture.
pub async fn run_all<F: Fixture>(fresh: impl Fn() -> F) {
    lists_only_synchronized_files(&fresh()).await;
    lists_nothing_without_item_folders(&fresh()).await;
    hashes_are_blake2b_512_with_the_stat(&fresh()).await;
    reads_whole_files_within_the_limit(&fresh()).await;
    batch_reads_answer_like_reads(&fresh()).await;
    writes_create_folders_and_set_item_permissions(&fresh()).await;
    writes_replace_atomically_without_leftovers(&fresh()).await;
    batch_writes_fail_alone_and_leave_no_leftovers(&fresh()).await;
    staged_files_wait_hidden_until_committed_or_discarded(&fresh()).await;
    removes_report_whether_the_file_existed(&fresh()).await;
    prunes_empty_folders_up_to_the_item(&fresh()).await;
    listing_follows_modification_times(&fresh()).await;
    refuses_paths_of_unknown_items(&fresh()).await;
    refuses_folder_links_leading_outside(&fresh()).await;
    refuses_file_links_leading_outside(&fresh()).await;
    confinement_refuses_escaping_names();
}

/// Only files of the items are listed, once, with their item key and size.
pub async fn lists_only_synchronized_files<F: Fixture>(fx: &F) {
    let planted: &[(&str, &[u8])] = &[
        ("etc/client.keys", b"001 agent any key\n"),
        ("etc/ossec.conf", b"<ossec_config/>"),
        ("etc/internal_options.conf", b"x"),
        ("etc/sub/client.keys", b"x"),
        ("etc/shared/default/agent.conf", b"<agent_config/>"),
        ("etc/shared/default/agent.conf.swp", b"x"),
        ("etc/shared/default/notes~", b"x"),
        ("etc/shared/ar.conf", b"x"),
        ("etc/shared/g/deep/er/file.txt", b"deep"),
        ("var/multigroups/abc/merged.mg", b"merged"),
        ("var/multigroups/abc/other", b"x"),
        ("etc/rules/local_rules.xml", b"<group/>"),
        ("etc/decoders/local_decoder.xml", b"<decoder/>"),
        ("etc/lists/audit-keys", b"a:b"),
        ("bin/wazuh-control", b"x"),
    ];
    for (p, c) in planted {
        fx.plant_file(p, c);
    }
    let mut listed: Vec<(String, String, u64)> = fx
        .source()
        .list()
        .await
        .expect("listing a healthy home succeeds")
        .into_iter()
        .map(|s| {
            (
                s.path.as_str().to_owned(),
                s.path.item_key().to_owned(),
                s.size,
            )
        })
        .collect();
    listed.sort();
    let expected: Vec<(String, String, u64)> = [
        ("etc/client.keys", "etc/", 18),
        ("etc/decoders/local_decoder.xml", "etc/decoders/", 10),
        ("etc/lists/audit-keys", "etc/lists/", 3),
        ("etc/rules/local_rules.xml", "etc/rules/", 8),
        ("etc/shared/default/agent.conf", "etc/shared/", 15),
        ("etc/shared/g/deep/er/file.txt", "etc/shared/", 4),
        ("var/multigroups/abc/merged.mg", "var/multigroups/", 6),
    ]
    .iter()
    .map(|(p, k, s)| ((*p).to_owned(), (*k).to_owned(), *s))
    .collect();
    assert_eq!(listed, expected, "listing selects exactly the items' files");
}

/// A home without the item folders lists nothing and is not an error.
pub async fn lists_nothing_without_item_folders<F: Fixture>(fx: &F) {
    fx.plant_file("etc/ossec.conf", b"x");
    let listed = fx
        .source()
        .list()
        .await
        .expect("missing item folders are not an error");
    assert!(listed.is_empty(), "nothing to list, got {listed:?}");
}

/// Hashes are BLAKE2b-512 hex with the listed size and mtime; a missing file fails alone.
pub async fn hashes_are_blake2b_512_with_the_stat<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    fx.plant_file("etc/shared/default/agent.conf", b"abc");
    fx.plant_file("etc/client.keys", b"");
    let listed = fx.source().list().await.expect("listing succeeds");
    let stat_of = |p: &str| {
        listed
            .iter()
            .find(|s| s.path.as_str() == p)
            .expect("listed")
            .clone()
    };
    let paths = [
        path(&items, "etc/shared/default/agent.conf"),
        path(&items, "etc/shared/default/gone.conf"),
        path(&items, "etc/client.keys"),
    ];
    let hashed = fx.source().hash(&paths).await;
    assert_eq!(hashed.len(), 3, "one result per path, in order");
    let abc = hashed[0].as_ref().expect("an existing file hashes");
    assert_eq!(abc.hash.hex().as_str(), blake2b_hex(b"abc"));
    let stat = stat_of("etc/shared/default/agent.conf");
    assert_eq!(
        (abc.size, abc.mtime),
        (stat.size, stat.mtime),
        "hash carries the listed stat"
    );
    assert!(
        matches!(hashed[1], Err(FileSourceError::NotFound { .. })),
        "a missing file is NotFound, got {:?}",
        hashed[1]
    );
    let empty = hashed[2].as_ref().expect("an empty file hashes");
    assert_eq!(
        (empty.size, empty.hash.hex().as_str()),
        (0, blake2b_hex(b"").as_str())
    );
}

/// Reads return the whole content, refuse files over the limit and report missing files.
pub async fn reads_whole_files_within_the_limit<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    fx.plant_file("etc/rules/big.xml", &content);
    let big = path(&items, "etc/rules/big.xml");
    assert_eq!(
        fx.source().read(&big, 100_000).await.expect("fits exactly"),
        content
    );
    assert!(matches!(
        fx.source().read(&big, 99_999).await,
        Err(FileSourceError::TooLarge {
            size: 100_000,
            limit: 99_999,
            ..
        })
    ));
    assert!(matches!(
        fx.source()
            .read(&path(&items, "etc/rules/none.xml"), 10)
            .await,
        Err(FileSourceError::NotFound { .. })
    ));
}

/// A batch read answers, in order, what each read answers: content, too large, not found.
pub async fn batch_reads_answer_like_reads<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    fx.plant_file("etc/shared/a/agent.conf", b"aaaa");
    fx.plant_file("etc/shared/b/agent.conf", b"bbbbbbbbbbbb");
    let paths: Vec<SyncPath> = (0..200)
        .map(|i| match i % 3 {
            0 => path(&items, "etc/shared/a/agent.conf"),
            1 => path(&items, "etc/shared/b/agent.conf"),
            _ => path(&items, "etc/shared/none/agent.conf"),
        })
        .collect();
    let read = fx.source().read_batch(&paths, 8).await;
    assert_eq!(read.len(), paths.len(), "one answer per path");
    for (i, answer) in read.iter().enumerate() {
        match i % 3 {
            0 => assert_eq!(answer.as_deref().ok(), Some(&b"aaaa"[..]), "file {i}"),
            1 => assert!(
                matches!(answer, Err(FileSourceError::TooLarge { size: 12, .. })),
                "file {i}: {answer:?}"
            ),
            _ => assert!(
                matches!(answer, Err(FileSourceError::NotFound { .. })),
                "file {i}: {answer:?}"
            ),
        }
    }
    assert!(fx.source().read_batch(&[], 8).await.is_empty());
}

/// Writes create missing folders and give the item's permissions.
pub async fn writes_create_folders_and_set_item_permissions<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    let source = fx.source();
    source
        .write(
            &path(&items, "etc/shared/newgroup/agent.conf"),
            b"<agent_config/>".to_vec(),
        )
        .await
        .expect("writing into a new group folder succeeds");
    source
        .write(&path(&items, "etc/client.keys"), b"keys".to_vec())
        .await
        .expect("writing client.keys succeeds");
    assert_eq!(
        fx.contents("etc/shared/newgroup/agent.conf").as_deref(),
        Some(&b"<agent_config/>"[..])
    );
    assert_eq!(fx.mode("etc/shared/newgroup/agent.conf"), Some(0o660));
    assert_eq!(
        fx.contents("etc/client.keys").as_deref(),
        Some(&b"keys"[..])
    );
    assert_eq!(fx.mode("etc/client.keys"), Some(0o640));
    let listed = source.list().await.expect("listing succeeds");
    assert!(
        listed
            .iter()
            .any(|s| s.path.as_str() == "etc/shared/newgroup/agent.conf" && s.size == 15)
    );
}

/// Overwriting replaces content and permissions and leaves no temporary file behind.
pub async fn writes_replace_atomically_without_leftovers<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    fx.plant_file(
        "etc/shared/default/agent.conf",
        b"old content that is longer",
    );
    let p = path(&items, "etc/shared/default/agent.conf");
    fx.source()
        .write(&p, b"new".to_vec())
        .await
        .expect("overwrite succeeds");
    assert_eq!(
        fx.contents("etc/shared/default/agent.conf").as_deref(),
        Some(&b"new"[..])
    );
    assert_eq!(fx.mode("etc/shared/default/agent.conf"), Some(0o660));
    assert_eq!(
        fx.entries_in("etc/shared/default"),
        ["agent.conf"],
        "no temporary file remains"
    );
    let empty = path(&items, "etc/shared/default/empty");
    fx.source()
        .write(&empty, Vec::new())
        .await
        .expect("an empty file can be written");
    assert_eq!(
        fx.contents("etc/shared/default/empty").as_deref(),
        Some(&b""[..])
    );
}

/// A batch writes every file it can (creating folders, replacing content and permissions),
/// answers one result per file in order (the written file's metadata, as `hash` gives it),
/// fails a bad file alone and leaves no temporary file; `sync` then succeeds and changes nothing
/// visible.
pub async fn batch_writes_fail_alone_and_leave_no_leftovers<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    fx.plant_file("etc/shared/default/agent.conf", b"old content");
    fx.plant_file("etc/shared/blocker", b"a file where a folder is needed");
    let batch = vec![
        (
            path(&items, "etc/shared/default/agent.conf"),
            b"new".to_vec(),
        ),
        (path(&items, "etc/shared/blocker/agent.conf"), b"x".to_vec()),
        (
            path(&items, "etc/shared/fresh/deep/agent.conf"),
            b"deep".to_vec(),
        ),
        (path(&items, "etc/client.keys"), Vec::new()),
    ];
    let results = fx.source().write_batch(batch).await;
    assert_eq!(results.len(), 4, "one result per file");
    assert!(results[0].is_ok(), "overwrite in a batch: {:?}", results[0]);
    assert!(
        matches!(results[1], Err(FileSourceError::WrongKind { .. })),
        "a file in the way of a folder fails alone: {:?}",
        results[1]
    );
    assert!(results[2].is_ok(), "create in a batch: {:?}", results[2]);
    assert!(
        results[3].is_ok(),
        "empty file in a batch: {:?}",
        results[3]
    );
    let written = [
        path(&items, "etc/shared/default/agent.conf"),
        path(&items, "etc/shared/fresh/deep/agent.conf"),
        path(&items, "etc/client.keys"),
    ];
    let hashed = fx.source().hash(&written).await;
    for (i, (answered, hashed)) in [0, 2, 3].into_iter().zip(hashed).enumerate() {
        assert_eq!(
            results[answered].as_ref().ok(),
            hashed.as_ref().ok(),
            "a batch answers the metadata `hash` gives right after ({:?})",
            written[i]
        );
    }
    let check = || {
        assert_eq!(
            fx.contents("etc/shared/default/agent.conf").as_deref(),
            Some(&b"new"[..])
        );
        assert_eq!(fx.mode("etc/shared/default/agent.conf"), Some(0o660));
        assert_eq!(
            fx.contents("etc/shared/fresh/deep/agent.conf").as_deref(),
            Some(&b"deep"[..])
        );
        assert_eq!(fx.contents("etc/client.keys").as_deref(), Some(&b""[..]));
        assert_eq!(fx.mode("etc/client.keys"), Some(0o640));
        assert_eq!(
            fx.contents("etc/shared/blocker").as_deref(),
            Some(&b"a file where a folder is needed"[..])
        );
        assert_eq!(fx.entries_in("etc/shared/default"), ["agent.conf"]);
        assert_eq!(fx.entries_in("etc/shared/fresh/deep"), ["agent.conf"]);
    };
    check();
    fx.source().sync().await.expect("sync succeeds");
    check();
    assert!(
        fx.source().write_batch(Vec::new()).await.is_empty(),
        "an empty batch answers nothing"
    );
    fx.source()
        .sync()
        .await
        .expect("a sync with nothing to do succeeds");
}

/// Staged files change nothing visible: the targets keep their content and listings do not
/// show them. A commit replaces each target (permissions of the item, the metadata `hash`
/// gives right after), a discard leaves nothing behind, and a bad file fails alone.
pub async fn staged_files_wait_hidden_until_committed_or_discarded<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    fx.plant_file("etc/shared/default/agent.conf", b"old content");
    fx.plant_file("etc/shared/blocker", b"a file where a folder is needed");
    let listed_before = fx.source().list().await.expect("listing succeeds");
    let staged = fx
        .source()
        .stage_batch(vec![
            (
                path(&items, "etc/shared/default/agent.conf"),
                b"new".to_vec(),
            ),
            (path(&items, "etc/shared/blocker/agent.conf"), b"x".to_vec()),
            (
                path(&items, "etc/shared/fresh/agent.conf"),
                b"fresh".to_vec(),
            ),
            (path(&items, "etc/shared/default/dropped"), b"d".to_vec()),
        ])
        .await;
    assert_eq!(staged.len(), 4, "one result per file");
    assert!(
        matches!(staged[1], Err(FileSourceError::WrongKind { .. })),
        "a file in the way of a folder fails alone: {:?}",
        staged[1]
    );
    let mut staged = staged.into_iter();
    let (agent, _, fresh, dropped) = (
        staged.next().unwrap().expect("staging an overwrite"),
        staged.next(),
        staged.next().unwrap().expect("staging a creation"),
        staged.next().unwrap().expect("staging a file to discard"),
    );
    assert_eq!(
        agent.file.hash.hex().as_str(),
        blake2b_hex(b"new"),
        "the staged content's hash"
    );
    assert_eq!(
        fx.contents("etc/shared/default/agent.conf").as_deref(),
        Some(&b"old content"[..]),
        "a staged file leaves its target alone"
    );
    assert_eq!(fx.contents("etc/shared/fresh/agent.conf"), None);
    assert_eq!(
        fx.source().list().await.expect("listing succeeds"),
        listed_before,
        "staged files are never listed"
    );
    let committed = fx.source().commit_staged(vec![agent, fresh]).await;
    assert!(committed.iter().all(Result::is_ok), "{committed:?}");
    fx.source().discard_staged(vec![dropped]).await;
    let targets = [
        path(&items, "etc/shared/default/agent.conf"),
        path(&items, "etc/shared/fresh/agent.conf"),
    ];
    let hashed = fx.source().hash(&targets).await;
    for (answered, hashed) in committed.iter().zip(&hashed) {
        assert_eq!(answered.as_ref().ok(), hashed.as_ref().ok());
    }
    assert_eq!(
        fx.contents("etc/shared/default/agent.conf").as_deref(),
        Some(&b"new"[..])
    );
    assert_eq!(fx.mode("etc/shared/default/agent.conf"), Some(0o660));
    assert_eq!(
        fx.contents("etc/shared/fresh/agent.conf").as_deref(),
        Some(&b"fresh"[..])
    );
    assert_eq!(
        fx.entries_in("etc/shared/default"),
        ["agent.conf"],
        "nothing staged is left, committed or discarded"
    );
    assert_eq!(fx.entries_in("etc/shared/fresh"), ["agent.conf"]);
    fx.source().sync().await.expect("sync succeeds");
}

/// Remove answers whether a file was there.
pub async fn removes_report_whether_the_file_existed<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    fx.plant_file("etc/shared/g/a.conf", b"a");
    let p = path(&items, "etc/shared/g/a.conf");
    assert!(fx.source().remove(&p).await.expect("remove succeeds"));
    assert_eq!(fx.contents("etc/shared/g/a.conf"), None);
    assert!(
        !fx.source()
            .remove(&p)
            .await
            .expect("removing a missing file is not an error")
    );
}

/// Pruning removes folders holding only excluded files, deepest first, never the item folder.
pub async fn prunes_empty_folders_up_to_the_item<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    let source = fx.source();
    fx.plant_file("etc/shared/g/sub/a.conf", b"a");
    fx.plant_file("etc/shared/g/sub/ar.conf", b"excluded");
    fx.plant_file("etc/shared/h/keep.conf", b"keep");
    let a = path(&items, "etc/shared/g/sub/a.conf");
    source.remove(&a).await.expect("remove succeeds");
    assert_eq!(
        source.prune_empty_dirs(&a).await.expect("prune succeeds"),
        2
    );
    assert!(!fx.dir_exists("etc/shared/g/sub") && !fx.dir_exists("etc/shared/g"));
    assert!(fx.dir_exists("etc/shared"), "the item folder stays");
    assert_eq!(
        fx.contents("etc/shared/h/keep.conf").as_deref(),
        Some(&b"keep"[..])
    );
    let gone = path(&items, "etc/shared/h/gone.conf");
    assert_eq!(
        source
            .prune_empty_dirs(&gone)
            .await
            .expect("prune succeeds"),
        0,
        "h is not empty"
    );
    assert!(fx.dir_exists("etc/shared/h"));
    let top = path(&items, "etc/shared/top.conf");
    assert_eq!(
        source.prune_empty_dirs(&top).await.expect("prune succeeds"),
        0
    );
    fx.plant_file("etc/shared/x/y/z/keep.conf", b"k");
    let deep = path(&items, "etc/shared/x/y/z/w/gone.conf");
    assert_eq!(
        source
            .prune_empty_dirs(&deep)
            .await
            .expect("missing folders are skipped"),
        0
    );
    assert!(fx.dir_exists("etc/shared/x/y/z"));
}

/// A changed modification time shows in the next listing.
pub async fn listing_follows_modification_times<F: Fixture>(fx: &F) {
    fx.plant_file("etc/lists/l", b"x");
    let at = ModTime::from_unix(1_600_000_000, 0);
    fx.set_mtime("etc/lists/l", at);
    let listed = fx.source().list().await.expect("listing succeeds");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].mtime, at);
}

/// A path confined by other items (whose key this source lacks) is refused; nothing happens.
pub async fn refuses_paths_of_unknown_items<F: Fixture>(fx: &F) {
    let other = ClusterItems::new(
        vec![ClusterItem {
            key: "custom/".into(),
            files: FileSelection::All,
            recursive: true,
            permissions: 0o600,
            remove_subdirs_if_empty: true,
            extra_valid: false,
        }],
        Exclusions::wazuh_default(),
    )
    .expect("valid items");
    let p = path(&other, "custom/x");
    let source = fx.source();
    assert!(matches!(
        source.write(&p, b"x".to_vec()).await,
        Err(FileSourceError::UnknownItem { .. })
    ));
    assert!(matches!(
        source.read(&p, 10).await,
        Err(FileSourceError::UnknownItem { .. })
    ));
    assert!(matches!(
        source.remove(&p).await,
        Err(FileSourceError::UnknownItem { .. })
    ));
    assert!(matches!(
        source.hash(std::slice::from_ref(&p)).await[0],
        Err(FileSourceError::UnknownItem { .. })
    ));
    assert!(!fx.dir_exists("custom"), "nothing was created");
}

/// A folder link leading outside is neither listed nor read, written, removed or pruned through.
pub async fn refuses_folder_links_leading_outside<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    let source = fx.source();
    fx.plant_file("etc/shared/default/agent.conf", b"a");
    fx.plant_dir_link_outside("etc/shared/evil");
    let before = fx.outside();
    let victim = path(&items, "etc/shared/evil/victim");
    let listed = source.list().await.expect("listing succeeds");
    assert!(
        listed
            .iter()
            .all(|s| !s.path.as_str().starts_with("etc/shared/evil")),
        "no listing through links"
    );
    assert!(escape(&source.read(&victim, 1 << 20).await));
    assert!(escape(&source.hash(std::slice::from_ref(&victim)).await[0]));
    assert!(escape(&source.write(&victim, b"pwned".to_vec()).await));
    assert!(escape(
        &source
            .write(&path(&items, "etc/shared/evil/new"), b"pwned".to_vec())
            .await
    ));
    assert!(escape(
        &source
            .write(
                &path(&items, "etc/shared/evil/deeper/new"),
                b"pwned".to_vec()
            )
            .await
    ));
    assert!(escape(&source.remove(&victim).await));
    assert!(escape(
        &source
            .prune_empty_dirs(&path(&items, "etc/shared/evil/x/y"))
            .await
    ));
    assert_eq!(fx.outside(), before, "nothing outside the home changed");
}

/// A file link leading outside is not listed, read or hashed; writing or removing it replaces
/// or removes the link itself, never the file it leads to.
pub async fn refuses_file_links_leading_outside<F: Fixture>(fx: &F) {
    let items = fx.source().items().clone();
    let source = fx.source();
    fx.plant_file_link_outside("etc/rules/link.xml");
    fx.plant_file_link_outside("etc/rules/link2.xml");
    let before = fx.outside();
    let link = path(&items, "etc/rules/link.xml");
    let listed = source.list().await.expect("listing succeeds");
    assert!(listed.is_empty(), "links are not listed, got {listed:?}");
    assert!(matches!(
        source.read(&link, 1 << 20).await,
        Err(FileSourceError::SymlinkEscape { .. })
    ));
    assert!(matches!(
        source.hash(std::slice::from_ref(&link)).await[0],
        Err(FileSourceError::SymlinkEscape { .. })
    ));
    source
        .write(&link, b"mine".to_vec())
        .await
        .expect("writing replaces the link itself");
    assert_eq!(
        fx.contents("etc/rules/link.xml").as_deref(),
        Some(&b"mine"[..])
    );
    let link2 = path(&items, "etc/rules/link2.xml");
    assert!(
        source
            .remove(&link2)
            .await
            .expect("removing a link removes the link")
    );
    assert_eq!(fx.outside(), before, "the linked file outside is untouched");
}

/// The names that could escape are refused before any backend sees them.
pub fn confinement_refuses_escaping_names() {
    let items = ClusterItems::wazuh_default();
    for raw in [
        "",
        "/etc/client.keys",
        "/tmp/x",
        "../etc/client.keys",
        "etc/shared/../../x",
        "etc/shared/./a",
        "etc/shared//a",
        "etc/shared\\..\\x",
        "etc/ossec.conf",
        "queue/db/x",
    ] {
        assert!(items.confine(raw).is_err(), "{raw:?} must be refused");
    }
}
