//! The file-drop input against a real file system and a scripted pipeline.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::fs;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{FakeIngest, drop_dir, event, eventually, names};
use gateway_adapter_filedrop::{FileDropError, FileDropInput};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

fn sidecar(path: &std::path::Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn good_file_goes_to_done() {
    let (_tmp, dir, cfg) = drop_dir();
    let body = event("e1");
    fs::write(dir.join("a.json"), &body).unwrap();
    let ingest = FakeIngest::default();
    let input = FileDropInput::new(cfg);

    assert_eq!(input.process_once(&ingest).await.unwrap(), 1);

    assert_eq!(names(&dir.join("done")), ["a.json"]);
    assert_eq!(fs::read_to_string(dir.join("done/a.json")).unwrap(), body);
    assert!(names(&dir.join("error")).is_empty());
    assert!(names(&dir.join(".claimed")).is_empty());
    let events = ingest.events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].origin, "file:json/a.json#0");
    assert_eq!(events[0].body, body.as_bytes());
}

#[tokio::test]
async fn rejected_item_sends_file_to_error_with_sidecar() {
    let (_tmp, dir, mut cfg) = drop_dir();
    cfg.max_batch = 2;
    let bad = r#"{"id": "e2", "reject": true}"#;
    fs::write(
        dir.join("b.json"),
        format!("[\n{},\n{bad},\n{}\n]", event("e1"), event("e3")),
    )
    .unwrap();
    let ingest = FakeIngest::default();

    assert_eq!(
        FileDropInput::new(cfg).process_once(&ingest).await.unwrap(),
        1
    );

    assert_eq!(names(&dir.join("error")), ["b.json", "b.json.error.json"]);
    assert!(names(&dir.join("done")).is_empty());
    assert_eq!(
        ingest.origins(),
        [
            "file:json/b.json#0",
            "file:json/b.json#1",
            "file:json/b.json#2"
        ]
    );
    assert_eq!(
        ingest.calls.load(Ordering::SeqCst),
        2,
        "max_batch splits the file"
    );
    assert_eq!(
        sidecar(&dir.join("error/b.json.error.json")),
        json!({"file": "b.json", "errors": [
            {"line": 3, "index": 1, "stage": "mapping", "reason": "The test rejected this event."}
        ]})
    );
}

#[tokio::test]
async fn invalid_json_goes_to_error_without_ingest() {
    let (_tmp, dir, cfg) = drop_dir();
    fs::write(dir.join("c.json"), "{\n  \"id\": \"e1\",\n  oops\n}").unwrap();
    let ingest = FakeIngest::default();

    assert_eq!(
        FileDropInput::new(cfg).process_once(&ingest).await.unwrap(),
        1
    );

    assert_eq!(ingest.calls.load(Ordering::SeqCst), 0);
    assert_eq!(names(&dir.join("error")), ["c.json", "c.json.error.json"]);
    let doc = sidecar(&dir.join("error/c.json.error.json"));
    assert_eq!(doc["file"], "c.json");
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0]["index"].clone(), errors[0]["stage"].clone()),
        (json!(0), json!("input"))
    );
    assert_eq!(errors[0]["line"], 3);
    let reason = errors[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("not valid JSON") && reason.contains("line 3"),
        "{reason}"
    );
}

#[tokio::test]
async fn partial_and_hidden_files_are_ignored() {
    let (_tmp, dir, cfg) = drop_dir();
    for name in [
        ".a.json",
        "b.json.tmp",
        "c.json.part",
        "d.txt",
        "e.tmp",
        "f.part",
    ] {
        fs::write(dir.join(name), event("x")).unwrap();
    }
    fs::create_dir(dir.join("g.json")).unwrap();
    let ingest = FakeIngest::default();

    assert_eq!(
        FileDropInput::new(cfg).process_once(&ingest).await.unwrap(),
        0
    );

    assert_eq!(ingest.calls.load(Ordering::SeqCst), 0);
    assert_eq!(names(&dir).len(), 10, "nothing moved: {:?}", names(&dir));
}

#[tokio::test]
async fn growing_file_waits_for_settle_time() {
    let (_tmp, dir, mut cfg) = drop_dir();
    cfg.settle_time = Duration::from_millis(400);
    let path = dir.join("slow.json");
    fs::write(&path, "[").unwrap();
    let ingest = FakeIngest::default();
    let input = FileDropInput::new(cfg);

    assert_eq!(
        input.process_once(&ingest).await.unwrap(),
        0,
        "first sight starts the clock"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    fs::write(&path, format!("[{}", event("e1"))).unwrap();
    assert_eq!(input.process_once(&ingest).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(250)).await;
    fs::write(&path, format!("[{}]", event("e1"))).unwrap();
    assert_eq!(
        input.process_once(&ingest).await.unwrap(),
        0,
        "it grew again"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        input.process_once(&ingest).await.unwrap(),
        0,
        "not yet stable for 400 ms"
    );
    assert_eq!(names(&dir.join(".claimed")), Vec::<String>::new());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(input.process_once(&ingest).await.unwrap(), 1);
    assert_eq!(names(&dir.join("done")), ["slow.json"]);
    assert_eq!(ingest.events.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftover_in_claimed_is_processed_at_start_up() {
    let (_tmp, dir, mut cfg) = drop_dir();
    cfg.settle_time = Duration::from_secs(3600);
    cfg.rescan_interval = Duration::from_secs(3600);
    fs::create_dir(dir.join(".claimed")).unwrap();
    fs::write(dir.join(".claimed/left.json"), event("e1")).unwrap();
    let ingest = Arc::new(FakeIngest::default());
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(FileDropInput::new(cfg).run(ingest.clone(), shutdown.clone()));

    let done = dir.join("done");
    assert!(eventually(5, || names(&done) == ["left.json"]).await);
    shutdown.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(ingest.origins(), ["file:json/left.json#0"]);
}

#[tokio::test]
async fn ingest_error_keeps_file_claimed_until_next_pass() {
    let (_tmp, dir, cfg) = drop_dir();
    fs::write(dir.join("a.json"), event("e1")).unwrap();
    let ingest = FakeIngest::default();
    ingest.fail_calls.store(1, Ordering::SeqCst);
    let input = FileDropInput::new(cfg);

    let err = input.process_once(&ingest).await.unwrap_err();
    assert!(matches!(err, FileDropError::Ingest(_)), "{err:?}");
    assert_eq!(names(&dir.join(".claimed")), ["a.json"]);
    assert!(names(&dir.join("done")).is_empty());

    assert_eq!(input.process_once(&ingest).await.unwrap(), 1);
    assert_eq!(names(&dir.join("done")), ["a.json"]);
    assert!(names(&dir.join(".claimed")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_never_take_the_same_file() {
    let (_tmp, dir, cfg) = drop_dir();
    let write = |range: std::ops::Range<usize>| {
        for i in range {
            fs::write(dir.join(format!("f{i:02}.json")), event(&format!("e{i}"))).unwrap();
        }
    };
    write(0..25);
    let ingest = Arc::new(FakeIngest::slow(Duration::from_millis(5)));
    let shutdown = CancellationToken::new();
    let start = || {
        let input = FileDropInput::new(cfg.clone());
        tokio::spawn(input.run(ingest.clone(), shutdown.clone()))
    };
    let mut runs = vec![start()];
    // The second starts while the first holds a file in `.claimed/`, so it meets a claimed file
    // in its start-up recovery as well as racing for new ones.
    assert!(eventually(5, || ingest.calls.load(Ordering::SeqCst) > 0).await);
    runs.push(start());
    write(25..50);

    let done = dir.join("done");
    assert!(
        eventually(20, || names(&done).len() == 50).await,
        "{:?}",
        names(&done)
    );
    shutdown.cancel();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for origin in ingest.origins() {
        *counts.entry(origin).or_default() += 1;
    }
    assert_eq!(counts.len(), 50);
    assert!(
        counts.values().all(|n| *n == 1),
        "ingested twice: {counts:?}"
    );
    assert!(names(&dir.join(".claimed")).is_empty());
}

#[tokio::test]
async fn same_name_again_never_overwrites() {
    let (_tmp, dir, cfg) = drop_dir();
    let input = FileDropInput::new(cfg);
    let ingest = FakeIngest::default();
    for (i, body) in [
        event("e1"),
        event("e2"),
        "not json".to_owned(),
        "nor this".to_owned(),
    ]
    .iter()
    .enumerate()
    {
        fs::write(dir.join("a.json"), body).unwrap();
        assert_eq!(input.process_once(&ingest).await.unwrap(), 1, "drop {i}");
    }

    let done = names(&dir.join("done"));
    assert_eq!(done.len(), 2, "{done:?}");
    assert_eq!(
        fs::read_to_string(dir.join("done/a.json")).unwrap(),
        event("e1")
    );
    let second = done.iter().find(|n| *n != "a.json").unwrap();
    assert!(
        second.starts_with("a.") && second.ends_with(".json"),
        "{second}"
    );
    assert_eq!(
        fs::read_to_string(dir.join("done").join(second)).unwrap(),
        event("e2")
    );

    let error = names(&dir.join("error"));
    assert_eq!(error.len(), 4, "{error:?}");
    assert_eq!(
        fs::read_to_string(dir.join("error/a.json")).unwrap(),
        "not json"
    );
    let other = error
        .iter()
        .find(|n| *n != "a.json" && !n.ends_with(".error.json"))
        .unwrap();
    assert_eq!(
        fs::read_to_string(dir.join("error").join(other)).unwrap(),
        "nor this"
    );
    assert!(
        dir.join("error")
            .join(format!("{other}.error.json"))
            .is_file()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_current_file() {
    let (_tmp, dir, cfg) = drop_dir();
    fs::write(dir.join("a.json"), event("e1")).unwrap();
    let ingest = Arc::new(FakeIngest::slow(Duration::from_millis(300)));
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(FileDropInput::new(cfg).run(ingest.clone(), shutdown.clone()));

    assert!(eventually(5, || ingest.calls.load(Ordering::SeqCst) == 1).await);
    shutdown.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(names(&dir.join("done")), ["a.json"]);
}

#[tokio::test]
async fn completion_marker_is_waited_for_and_kept() {
    let (_tmp, dir, mut cfg) = drop_dir();
    cfg.completion_marker = Some(".ready".into());
    fs::write(dir.join("a.json"), event("e1")).unwrap();
    let ingest = FakeIngest::default();
    let input = FileDropInput::new(cfg);

    assert_eq!(input.process_once(&ingest).await.unwrap(), 0);
    fs::write(dir.join("a.json.ready"), "").unwrap();
    assert_eq!(input.process_once(&ingest).await.unwrap(), 1);
    assert_eq!(names(&dir.join("done")), ["a.json", "a.json.ready"]);
}

#[tokio::test]
async fn missing_folder_is_an_error() {
    let (_tmp, dir, mut cfg) = drop_dir();
    cfg.dir = dir.join("nope");
    let err = FileDropInput::new(cfg)
        .process_once(&FakeIngest::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FileDropError::Dir { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_events_wake_the_input_before_the_rescan() {
    let (_tmp, dir, mut cfg) = drop_dir();
    cfg.rescan_interval = Duration::from_secs(3600);
    let ingest = Arc::new(FakeIngest::default());
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(FileDropInput::new(cfg).run(ingest.clone(), shutdown.clone()));
    // Let the start-up pass find an empty folder first.
    assert!(eventually(5, || dir.join("done").is_dir()).await);
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Senders write under a partial name and rename when complete.
    fs::write(dir.join("a.json.part"), event("e1")).unwrap();
    fs::rename(dir.join("a.json.part"), dir.join("a.json")).unwrap();

    let done = dir.join("done");
    assert!(eventually(5, || names(&done) == ["a.json"]).await);
    shutdown.cancel();
    run.await.unwrap().unwrap();
}
