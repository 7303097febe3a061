//! Property tests of the payload codecs: round trips, no panics on arbitrary input, and the
//! refusals that protect a node (zlib bombs, path escapes).

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use proptest::prelude::*;
use wazuh_cluster_proto::payload::*;

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::new(COMPRESS_LEVEL));
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn entry(path: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = path.to_vec();
    out.extend_from_slice(b"|//@@//|");
    out.extend_from_slice(body);
    out
}

fn container_with_file(path: &[u8], content: &[u8]) -> Vec<u8> {
    let mut out = entry(path, &zlib(content));
    out.extend_from_slice(b"|@@//@@|");
    out.extend(entry(b"files_metadata.json", &zlib(b"{}")));
    out
}

fn field() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.-]{1,24}"
}

fn node_type() -> impl Strategy<Value = NodeType> {
    prop_oneof![
        Just(NodeType::Master),
        Just(NodeType::Worker),
        Just(NodeType::Client)
    ]
}

fn relpath() -> impl Strategy<Value = String> {
    "[a-z0-9_.-]{0,6}[a-z0-9_]{1,3}(/[a-z0-9_-]{1,8}){0,3}"
}

fn class() -> impl Strategy<Value = ExceptionClass> {
    prop_oneof![
        Just(ExceptionClass::Cluster),
        Just(ExceptionClass::Internal),
        Just(ExceptionClass::Error),
        "Wazuh[A-Za-z]{1,12}".prop_map(ExceptionClass::Other),
    ]
}

fn task_id() -> impl Strategy<Value = TaskId> {
    prop_oneof![
        Just(TaskId::None),
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
            .prop_map(TaskId::Uuid),
    ]
}

fn metadata() -> impl Strategy<Value = FileMetadata> {
    (
        0.0f64..2e9,
        "[a-z/]{1,16}",
        any::<bool>(),
        proptest::option::of("[A-Z]{1,8}"),
        any::<Vec<u8>>(),
    )
        .prop_map(|(mod_time, key, merged, merge_type, data)| FileMetadata {
            mod_time,
            cluster_item_key: key,
            merged,
            merge_name: merge_type.as_ref().map(|t| format!("/var/{t}")),
            merge_type,
            hash: Blake2bHex::of(&data),
        })
}

fn agent_row() -> impl Strategy<Value = AgentInfoRow> {
    (
        any::<u32>(),
        proptest::option::of("\\PC{0,16}"),
        proptest::option::of("[0-9.]{7,15}"),
        proptest::option::of("worker[0-9]{1,2}"),
        proptest::option::of(any::<i64>()),
        proptest::option::of(prop_oneof![Just("active"), Just("disconnected")]),
        proptest::option::of(proptest::collection::vec(("[a-z]{1,6}", "\\PC{0,8}"), 0..3)),
    )
        .prop_map(
            |(id, name, ip, node, keepalive, status, labels)| AgentInfoRow {
                id,
                name,
                ip,
                node_name: node,
                last_keepalive: keepalive,
                connection_status: status.map(str::to_owned),
                labels: labels.map(|labels| {
                    labels
                        .into_iter()
                        .map(|(key, value)| AgentLabel { id, key, value })
                        .collect()
                }),
                ..AgentInfoRow::default()
            },
        )
}

proptest! {
    #[test]
    fn hello_round_trips(name in field(), cluster in field(), kind in node_type(), version in field()) {
        let hello = Hello::new(name, cluster, kind, version).unwrap();
        prop_assert_eq!(Hello::decode(&hello.encode()).unwrap(), hello);
    }

    #[test]
    fn hello_decode_never_panics(bytes in any::<Vec<u8>>()) {
        if let Err(e) = Hello::decode(&bytes) {
            prop_assert_eq!(e.to_exception().code, 1000);
        }
    }

    #[test]
    fn exception_round_trips(
        class in class(),
        code in any::<u32>(),
        extra in proptest::option::of("\\PC{0,40}"),
        cmd_error in any::<bool>(),
    ) {
        let mut e = WazuhException::new(class, code);
        e.extra_message = extra;
        e.cmd_error = cmd_error;
        prop_assert_eq!(WazuhException::from_json(e.to_json().as_bytes()).unwrap(), e.clone());
        prop_assert_eq!(WazuhException::from_err_reply(e.to_json().as_bytes()), e);
    }

    #[test]
    fn err_reply_never_panics(bytes in any::<Vec<u8>>()) {
        let e = WazuhException::from_err_reply(&bytes);
        prop_assert!(e.to_string().starts_with("Error "));
    }

    #[test]
    fn file_transfer_round_trips(path in relpath(), data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let path = TransferPath::new(format!("/{path}")).unwrap();
        let mut messages = FileSender::new(path.clone(), &data);
        let (_, first) = messages.next().unwrap();
        let mut receiver = FileReceiver::new(TransferPath::decode(&first).unwrap(), 4096);
        let rest: Vec<_> = messages.collect();
        let (last, updates) = rest.split_last().unwrap();
        let mut received = Vec::new();
        for (_, payload) in updates {
            received.extend_from_slice(receiver.update(payload).unwrap());
        }
        receiver.end(&last.1).unwrap();
        prop_assert_eq!(received, data);
    }

    #[test]
    fn file_payload_decoders_never_panic(bytes in any::<Vec<u8>>()) {
        let _ = TransferPath::decode(&bytes);
        let _ = FileUpdate::decode(&bytes);
        let _ = FileEnd::decode(&bytes);
        let mut receiver = FileReceiver::new(TransferPath::new("/queue/x").unwrap(), 16);
        let _ = receiver.update(&bytes);
        let _ = receiver.end(&bytes);
    }

    #[test]
    fn string_transfer_round_trips(id in any::<u32>(), data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut store = StringStore::default();
        let declared = parse_new_str(&new_str_payload(data.len() as u64)).unwrap();
        let id = parse_string_id(&string_id_payload(id)).unwrap();
        store.start(id, declared).unwrap();
        for (_, payload) in str_upd_requests(id, &data) {
            prop_assert_eq!(store.update(&payload).unwrap(), id);
        }
        prop_assert!(store.is_complete(id));
        prop_assert_eq!(store.take(id).unwrap(), data);
    }

    #[test]
    fn string_decoders_never_panic(bytes in any::<Vec<u8>>()) {
        let _ = parse_new_str(&bytes);
        let _ = parse_string_id(&bytes);
        let mut store = StringStore::new(8, 8);
        store.start(1, 8).unwrap();
        let _ = store.update(&bytes);
    }

    #[test]
    fn container_round_trips(
        files in proptest::collection::btree_map(relpath(), proptest::collection::vec(any::<u8>(), 0..512), 0..8),
        table in proptest::collection::btree_map(relpath(), metadata(), 0..4),
    ) {
        let mut encoder = ContainerEncoder::new(1 << 20);
        for (path, content) in &files {
            prop_assert_eq!(encoder.add_file(path, content).unwrap(), AddOutcome::Added);
        }
        let value = serde_json::to_value(&table).unwrap();
        let encoded = encoder.finish(&value).unwrap();
        prop_assert!(encoded.skipped.is_empty());
        let decoded = decode_container(&encoded.bytes, &ContainerLimits::default()).unwrap();
        let back: Vec<_> = decoded.files.into_iter().map(|f| (f.path, f.content)).collect();
        prop_assert_eq!(back, files.into_iter().collect::<Vec<_>>());
        prop_assert_eq!(decode_file_table(decoded.metadata).unwrap(), table);
    }

    #[test]
    fn streamed_container_is_the_whole_one_cut_in_pieces(
        files in proptest::collection::btree_map(relpath(), proptest::collection::vec(any::<u8>(), 0..512), 0..8),
        missing in proptest::collection::btree_map(relpath(), metadata(), 0..4),
        extra in proptest::collection::btree_map(relpath(), metadata(), 0..3),
        piece_len in 1usize..300,
    ) {
        let plan = SyncPlan { missing, shared: FileTable::new(), extra };
        let mut stream = ContainerStream::new(1 << 20, piece_len);
        let mut whole = ContainerEncoder::new(1 << 20);
        let mut pieces = Vec::new();
        let mut layout = Vec::new();
        for (path, content) in &files {
            prop_assert_eq!(stream.add_file(path, content).unwrap(), AddOutcome::Added);
            whole.add_file(path, content).unwrap();
            pieces.extend(std::iter::from_fn(|| stream.next_piece()));
            layout.extend(entry(path.as_bytes(), &zlib(content)));
            layout.extend_from_slice(b"|@@//@@|");
        }
        let end = stream.finish(&PlanJson(&plan)).unwrap();
        pieces.extend(end.pieces);
        // The whole encoder fed the metadata the way it was before streaming: a Value tree.
        let whole = whole.finish(&serde_json::to_value(&plan).unwrap()).unwrap();
        let (last, full) = pieces.split_last().unwrap();
        prop_assert!(full.iter().all(|p| p.len() == piece_len));
        prop_assert!(!last.is_empty() && last.len() <= piece_len);
        let streamed = pieces.concat();
        prop_assert_eq!(&streamed, &whole.bytes);
        prop_assert!(streamed.starts_with(&layout));
        let path = TransferPath::new("/queue/cluster/w/w-1.0-ab.zip").unwrap();
        let mut sender = PieceSender::new(path.clone());
        for piece in &pieces {
            sender.update(piece);
        }
        prop_assert_eq!(sender.end(), FileSender::new(path, &whole.bytes).last().unwrap());
        let decoded = decode_container(&streamed, &ContainerLimits::default()).unwrap();
        prop_assert_eq!(SyncPlan::decode(decoded.metadata).unwrap(), plan);
    }

    #[test]
    fn container_decode_of_garbage_never_panics(bytes in any::<Vec<u8>>()) {
        let _ = decode_container(&bytes, &ContainerLimits::default());
    }

    #[test]
    fn container_decode_of_mutated_container_never_panics(
        content in proptest::collection::vec(any::<u8>(), 0..256),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = container_with_file(b"etc/client.keys", &content);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = decode_container(&bytes, &ContainerLimits { max_decompressed: 4096, max_entries: 4 });
    }

    #[test]
    fn sync_plan_round_trips(
        missing in proptest::collection::btree_map(relpath(), metadata(), 0..3),
        extra in proptest::collection::btree_map(relpath(), metadata(), 0..3),
    ) {
        let plan = SyncPlan { missing, shared: FileTable::new(), extra };
        prop_assert_eq!(SyncPlan::decode(serde_json::to_value(&plan).unwrap()).unwrap(), plan);
    }

    #[test]
    fn task_payloads_round_trip(tid in task_id(), path in relpath(), code in 3000u32..3100, extra in proptest::option::of("\\PC{0,30}")) {
        let file = TaskFile { tid: tid.clone(), relpath: path };
        prop_assert_eq!(TaskFile::decode(&file.encode()).unwrap(), file);
        let mut error = WazuhException::cluster(code);
        error.extra_message = extra;
        let task_error = TaskError { tid, error };
        prop_assert_eq!(TaskError::decode(&task_error.encode()).unwrap(), task_error);
    }

    #[test]
    fn task_decoders_never_panic(bytes in any::<Vec<u8>>()) {
        let _ = TaskFile::decode(&bytes);
        let _ = TaskError::decode(&bytes);
        let _ = SyncResult::decode(&bytes);
        let _ = parse_permission(&bytes);
    }

    #[test]
    fn sync_result_round_trips(chunks in any::<u64>(), errors in proptest::collection::vec("\\PC{0,20}", 0..4), time in 0.0f64..1e6) {
        let result = SyncResult { updated_chunks: chunks, error_messages: errors, time_spent: time };
        prop_assert_eq!(SyncResult::decode(&result.encode()).unwrap(), result);
    }

    #[test]
    fn agent_info_round_trips(rows in proptest::collection::vec(agent_row(), 0..40), max in 256usize..4096) {
        let sync = AgentInfoSync::from_rows(&rows, max);
        let back = AgentInfoSync::decode(&sync.encode(), usize::MAX).unwrap();
        prop_assert_eq!(back.chunks.concat(), rows);
    }

    #[test]
    fn agent_groups_round_trip(
        agents in proptest::collection::vec((any::<u32>(), proptest::collection::vec("[a-z0-9_-]{1,12}", 0..4)), 0..40),
        hash in proptest::option::of("[0-9a-f]{40}"),
        max in 256usize..4096,
    ) {
        let agents: Vec<_> = agents.into_iter().map(|(id, groups)| AgentGroups { id, groups }).collect();
        let hash = hash.map(|h| GroupsHash::try_from(h).unwrap());
        let sync = AgentGroupsSync::from_agents(&agents, hash.as_ref(), max);
        let back = AgentGroupsSync::decode(&sync.encode(), usize::MAX).unwrap();
        prop_assert_eq!(back.last_hash(), if agents.is_empty() { None } else { hash.as_ref() });
        let flat: Vec<_> = back.chunks.into_iter().flat_map(|c| c.into_iter().flat_map(|x| x.data)).collect();
        prop_assert_eq!(flat, agents);
    }

    #[test]
    fn set_data_decoders_never_panic(bytes in any::<Vec<u8>>()) {
        let _ = AgentInfoSync::decode(&bytes, 65_536);
        let _ = AgentGroupsSync::decode(&bytes, 65_536);
    }
}

#[test]
fn zlib_bomb_is_refused_within_the_limit() {
    let bomb = vec![0u8; 64 << 20];
    let bytes = container_with_file(b"etc/shared/bomb", &bomb);
    assert!(bytes.len() < 1 << 20, "the bomb is small on the wire");
    let limits = ContainerLimits {
        max_decompressed: 1 << 20,
        max_entries: 16,
    };
    assert!(matches!(
        decode_container(&bytes, &limits),
        Err(ContainerError::DecompressedTooLarge { max, .. }) if max == 1 << 20
    ));
}

#[test]
fn escaping_and_absolute_paths_are_refused() {
    for path in [
        &b"../etc/passwd"[..],
        b"etc/../../x",
        b"/etc/passwd",
        b"etc\\x",
        b"",
        b"a\0b",
    ] {
        let bytes = container_with_file(path, b"data");
        assert!(
            matches!(
                decode_container(&bytes, &ContainerLimits::default()),
                Err(ContainerError::Path { index: 0, .. })
            ),
            "{path:?}"
        );
    }
    let mut encoder = ContainerEncoder::new(1 << 20);
    assert!(matches!(
        encoder.add_file("../x", b""),
        Err(ContainerError::Path { .. })
    ));
    assert!(matches!(
        encoder.add_file("/x", b""),
        Err(ContainerError::Path { .. })
    ));
}

#[test]
fn trailing_bytes_after_a_zlib_stream_are_refused() {
    let mut body = zlib(b"data");
    body.push(0);
    let mut bytes = entry(b"etc/x", &body);
    bytes.extend_from_slice(b"|@@//@@|");
    bytes.extend(entry(b"files_metadata.json", &zlib(b"{}")));
    assert!(matches!(
        decode_container(&bytes, &ContainerLimits::default()),
        Err(ContainerError::TrailingData { extra: 1, .. })
    ));
}

/// Pseudo-random bytes (xorshift): content zlib cannot shrink.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// With pieces of `chunk_len` bytes, the streamed container goes out as exactly the messages
/// the whole one did (Wazuh's `new_file`, 5 MiB `file_upd`s, `file_end` with the SHA-256),
/// here across three pieces, a file straddling each cut.
#[test]
fn streamed_container_sends_the_messages_of_the_whole_one() {
    let path = TransferPath::new("/queue/cluster/worker01/worker01-1.0-ab.zip").unwrap();
    let files: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| (format!("etc/shared/g/f{i}"), noise(i + 1, 2_300_000)))
        .collect();
    let plan = SyncPlan::default();
    let mut stream = ContainerStream::new(1 << 30, path.chunk_len());
    let mut whole = ContainerEncoder::new(1 << 30);
    let mut sender = PieceSender::new(path.clone());
    let mut streamed = vec![sender.start()];
    for (name, content) in &files {
        stream.add_file(name, content).unwrap();
        whole.add_file(name, content).unwrap();
        while let Some(piece) = stream.next_piece() {
            streamed.push(sender.update(&piece));
        }
    }
    for piece in stream.finish(&PlanJson(&plan)).unwrap().pieces {
        streamed.push(sender.update(&piece));
    }
    streamed.push(sender.end());
    let whole = whole.finish(&serde_json::to_value(&plan).unwrap()).unwrap();
    assert!(whole.bytes.len() > 2 * path.chunk_len());
    let expected: Vec<_> = FileSender::new(path, &whole.bytes).collect();
    assert_eq!(streamed.len(), expected.len());
    assert!(
        streamed == expected,
        "the streamed messages differ from the whole container's"
    );
    assert_eq!(
        FileEnd::decode(&streamed.last().unwrap().1).unwrap().digest,
        sha256(&whole.bytes)
    );
}
