//! Faults from outside the program, on the real binary:
//!
//! - the disk that holds the SQLite database fills up under load (a small tmpfs): refusals are
//!   503 JSON with Retry-After, the server stays up, every receipt is kept, and once there is
//!   room again the same server numbers on without a gap;
//! - a private PostgreSQL cluster is stopped and started again under load from two `serve`
//!   nodes: requests fail cleanly meanwhile, the nodes reconnect by themselves, and every
//!   acknowledged receipt is there with its protocol.
//!
//! Both need root (mount, runuser); where that is missing they print `SKIPPED:` and why.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::*;

/// What one POST of an application came back with.
#[derive(Debug)]
struct Reply {
    status: u16,
    retry_after: Option<String>,
    body: String,
    latency: Duration,
}

/// POSTs the entity's application; `Err` when no HTTP answer came back at all.
async fn post(
    client: &reqwest::Client,
    base: &str,
    entity: &str,
    token: &str,
) -> Result<Reply, String> {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/calls/{CALL}/applications"))
        .bearer_auth(token)
        .json(&application(entity))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or("<not ASCII>").to_string());
    let body = response.text().await.map_err(|e| format!("body: {e:?}"))?;
    Ok(Reply {
        status,
        retry_after,
        body,
        latency: started.elapsed(),
    })
}

/// A 503 as promised: a JSON error object and a Retry-After of a few seconds. The problem,
/// if not.
fn bad_unavailable(r: &Reply) -> Option<String> {
    let seconds = r.retry_after.as_deref().and_then(|s| s.parse::<u32>().ok());
    if !seconds.is_some_and(|s| (1..=60).contains(&s)) {
        return Some(format!(
            "503 with Retry-After {:?}: {}",
            r.retry_after, r.body
        ));
    }
    match serde_json::from_str::<Value>(&r.body) {
        Ok(v) if v["error"]["code"].is_string() && v["error"]["message"].is_string() => None,
        _ => Some(format!("503 without a JSON error object: {}", r.body)),
    }
}

/// `n` synthetic comuni of Emilia-Romagna, the 2020 call opening now, and a token each
/// (issued through the library, as `bandi tokens issue` does, to save n processes).
async fn setup(db: &str, dir: &TempDir, n: usize) -> (Vec<String>, HashMap<String, String>) {
    let entities: Vec<String> = (1..=n).map(|i| format!("ft{i:05}")).collect();
    let mut csv = String::from("code,name,kind,fiscal_code,province,members\n");
    for e in &entities {
        csv.push_str(&format!("{e},Ente di prova {e},comune,,BO,\n"));
    }
    let file = dir.write("entities.csv", &csv);
    bandi(db, &["entities", "import", &file, "--region", "08"]).ok();
    bandi(db, &["calls", "import", CALL_FILE, "--opens-at", "now"]).ok();
    let store = bandi_store::Store::connect(db).await.expect("connect");
    let mut tokens = HashMap::new();
    for e in &entities {
        tokens.insert(e.clone(), store.issue_token(e).await.expect("issue token"));
    }
    store.close().await;
    (entities, tokens)
}

/// Every receipt can be read back as given, the ranking is `1..=n` without a gap and names
/// exactly the protocols handed out, and `bandi verify` passes.
async fn check_receipts(
    base: &str,
    db: &str,
    receipts: &HashMap<String, Value>,
    tokens: &HashMap<String, String>,
) {
    let client = client();
    for (entity, receipt) in receipts {
        let id = receipt["id"].as_str().expect("receipt id");
        let (status, app) = get_json(
            &client,
            &format!("{base}/applications/{id}"),
            Some(&tokens[entity]),
        )
        .await;
        assert_eq!(status, 200, "receipt {id} of {entity} is lost: {app}");
        assert_eq!(app["protocol"], receipt["protocol"], "{entity}");
        assert_eq!(app["receipt"], *receipt, "{entity}: stored receipt differs");
    }
    let items = ranking(&client, base).await;
    assert_gap_free(&items, receipts.len());
    for row in &items {
        let entity = row["entity_code"].as_str().expect("entity_code");
        let receipt = receipts
            .get(entity)
            .unwrap_or_else(|| panic!("{entity} is ranked but never got a receipt: {row}"));
        assert_eq!(row["protocol"], receipt["protocol"], "{entity}");
        assert_eq!(row["seq"], receipt["seq"], "{entity}");
    }
    let summary = verify(db);
    assert!(
        summary.contains(&format!(" {} applications", receipts.len())),
        "{summary}"
    );
}

async fn assert_healthy(base: &str) {
    let (status, body) = get_json(&client(), &format!("{base}/health"), None).await;
    assert_eq!(status, 200, "GET /health: {body}");
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Runs a command to completion; its stderr (or why it did not run) on failure.
fn run(cmd: &mut Command) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    match cmd.output() {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => Err(format!(
            "{shown}: {}\n{}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Err(format!("{shown}: {e}")),
    }
}

// --- The disk fills up ------------------------------------------------------------------------

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, kib: u64) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir))?;
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }

    #[track_caller]
    fn resize(&self, kib: u64) {
        run(Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(&self.dir))
        .unwrap_or_else(|e| panic!("resizing the tmpfs: {e}"));
    }

    /// KiB in use, as `df` counts them.
    fn used_kib(&self) -> u64 {
        let out = run(Command::new("df")
            .args(["-k", "--output=used"])
            .arg(&self.dir))
        .expect("df");
        out.lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("df said: {out}"))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        for _ in 0..5 {
            if run(Command::new("umount").arg(&self.dir)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Something still holds a file open there: detach now, freed when it lets go.
        if let Err(e) = run(Command::new("umount").arg("-l").arg(&self.dir)) {
            eprintln!("the test tmpfs stays mounted: {e}");
        }
    }
}

/// Room left on the disk for the server once seeded. Each commit appends the pages it
/// changed to the WAL, which SQLite checkpoints only every 1000 pages (4 MiB): below that,
/// the WAL alone fills this room after one to two hundred submissions (about 10 KiB each
/// in batches of a few).
const DISK_HEADROOM_KIB: u64 = 2048;
const DISK_ENTITIES: usize = 800;
const DISK_CLIENTS: usize = 8;
/// Refusals to see before making room again.
const DISK_REFUSALS: usize = 40;

/// How the submissions to a full disk went.
#[derive(Default)]
struct DiskBook {
    pending: VecDeque<String>,
    receipts: HashMap<String, Value>,
    /// Entities refused with 503, to send again once there is room.
    refused: Vec<String>,
    refusals: usize,
    created_after_refusal: usize,
    problems: Vec<String>,
}

impl DiskBook {
    fn answer(&mut self, entity: String, reply: Result<Reply, String>) {
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                self.problems.push(format!("{entity}: no answer: {e}"));
                return;
            }
        };
        match reply.status {
            201 => {
                let receipt: Value = serde_json::from_str(&reply.body).expect("receipt JSON");
                assert_eq!(receipt["entity"], entity.as_str());
                if self.refusals > 0 {
                    self.created_after_refusal += 1;
                }
                if self.receipts.insert(entity.clone(), receipt).is_some() {
                    self.problems.push(format!("{entity}: a second 201"));
                }
            }
            503 => {
                if let Some(p) = bad_unavailable(&reply) {
                    self.problems.push(format!("{entity}: {p}"));
                }
                self.refusals += 1;
                self.refused.push(entity);
            }
            // A refusal on a full disk stores nothing, so there is nothing to replay (200).
            s => self.problems.push(format!("{entity}: {s} {}", reply.body)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_disk_full_refuses_with_503_keeps_every_receipt_and_resumes_without_restart() {
    let dir = TempDir::new();
    let mount_point = dir.0.join("disk");
    let disk = match Tmpfs::mount(&mount_point, 64 * 1024) {
        Ok(d) => d,
        Err(why) => {
            println!("SKIPPED: cannot mount a tmpfs to fill up (root needed): {why}");
            return;
        }
    };
    let db = format!("sqlite:{}", mount_point.join("bandi.db").display());
    let (entities, tokens) = setup(&db, &dir, DISK_ENTITIES).await;
    let seeded = disk.used_kib();
    disk.resize(seeded + DISK_HEADROOM_KIB);
    println!(
        "seeded: {seeded} KiB used; the disk now holds {} KiB",
        seeded + DISK_HEADROOM_KIB
    );

    let server = Server::start(&db).await;
    let book = Arc::new(Mutex::new(DiskBook {
        pending: entities.iter().cloned().collect(),
        ..DiskBook::default()
    }));
    let tokens = Arc::new(tokens);
    let started = Instant::now();
    let client = client();
    let tasks: Vec<_> = (0..DISK_CLIENTS)
        .map(|_| {
            let (book, tokens, client) = (book.clone(), tokens.clone(), client.clone());
            let base = server.base.clone();
            tokio::spawn(async move {
                loop {
                    let entity = {
                        let mut b = book.lock().unwrap();
                        if b.refusals >= DISK_REFUSALS {
                            break;
                        }
                        match b.pending.pop_front() {
                            Some(e) => e,
                            None => break,
                        }
                    };
                    let reply = post(&client, &base, &entity, &tokens[&entity]).await;
                    book.lock().unwrap().answer(entity, reply);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client task");
    }
    {
        let b = book.lock().unwrap();
        println!(
            "full disk after {} receipts in {:?}: {} refusals (503), {} receipts given after \
             the first refusal; {} KiB used of {}",
            b.receipts.len(),
            started.elapsed(),
            b.refusals,
            b.created_after_refusal,
            disk.used_kib(),
            seeded + DISK_HEADROOM_KIB
        );
        assert!(b.problems.is_empty(), "{:#?}", b.problems);
        assert!(
            !b.receipts.is_empty(),
            "the disk was full from the start; raise DISK_HEADROOM_KIB"
        );
    }

    // Still up, and what was acknowledged is there, on the full disk (and visible to other
    // connections: `bandi verify` is another process).
    assert_healthy(&server.base).await;
    let receipts = book.lock().unwrap().receipts.clone();
    check_receipts(&server.base, &db, &receipts, &tokens).await;
    {
        let b = book.lock().unwrap();
        assert!(
            b.refusals >= DISK_REFUSALS,
            "the disk never filled up: {} receipts, {} refusals; lower DISK_HEADROOM_KIB",
            b.receipts.len(),
            b.refusals
        );
    }

    // Room again: the same server takes the refused and the rest, numbering on.
    disk.resize(64 * 1024);
    let rest: Vec<String> = {
        let mut b = book.lock().unwrap();
        let mut rest = std::mem::take(&mut b.refused);
        rest.extend(b.pending.drain(..));
        rest
    };
    let rest_tokens: HashMap<String, String> = rest
        .iter()
        .map(|e| (e.clone(), tokens[e].clone()))
        .collect();
    let done = submit_all(
        &client,
        std::slice::from_ref(&server.base),
        &rest_tokens,
        &rest,
        DISK_CLIENTS,
    )
    .await;
    let mut receipts = receipts;
    for s in done {
        assert_eq!(
            s.status, 201,
            "{} after the disk was grown: {}",
            s.entity, s.receipt
        );
        assert!(receipts.insert(s.entity, s.receipt).is_none());
    }
    assert_eq!(receipts.len(), DISK_ENTITIES);
    assert_healthy(&server.base).await;
    check_receipts(&server.base, &db, &receipts, &tokens).await;
    println!(
        "after growing the disk: {} receipts in all, gap-free; {:?} end to end",
        receipts.len(),
        started.elapsed()
    );
    drop(server); // before the tmpfs is unmounted
}

// --- PostgreSQL restarts ----------------------------------------------------------------------

/// A PostgreSQL cluster of this test's own, on a free port; stopped and removed when dropped.
struct PgCluster {
    root: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl PgCluster {
    /// The newest `/usr/lib/postgresql/*/bin` with `initdb`.
    fn bin_dir() -> Result<PathBuf, String> {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
            .filter_map(|d| {
                let d = d.ok()?;
                let v = d.file_name().to_str()?.parse().ok()?;
                let bin = d.path().join("bin");
                bin.join("initdb").exists().then_some((v, bin))
            })
            .collect();
        versions.sort();
        versions
            .pop()
            .map(|(_, b)| b)
            .ok_or_else(|| "no /usr/lib/postgresql/*/bin/initdb".into())
    }

    fn as_postgres(&self, program: &str) -> Command {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
        c
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn start() -> Result<PgCluster, String> {
        let bin = Self::bin_dir()?;
        let root =
            std::env::temp_dir().join(format!("bandi-pg-{}-{}", std::process::id(), nanos()));
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let mut cluster = PgCluster { root, bin, port: 0 };
        run(Command::new("chown").arg("postgres:").arg(&cluster.root))?;
        run(cluster
            .as_postgres("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(cluster.data()))?;
        let mut last = String::new();
        for _attempt in 0..3 {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            cluster.port = listener.local_addr().map_err(|e| e.to_string())?.port();
            drop(listener);
            match cluster.pg_ctl_start() {
                Ok(()) => {
                    run(cluster.as_postgres("createdb").args([
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &cluster.port.to_string(),
                        "bandi",
                    ]))?;
                    return Ok(cluster);
                }
                Err(e) => last = e, // most likely the port was taken meanwhile
            }
        }
        Err(last)
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB",
            self.port,
            self.root.display()
        );
        run(self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-o", &options, "-l"])
            .arg(self.root.join("postgres.log"))
            .args(["-w", "-t", "30", "start"]))
        .map(drop)
    }

    /// `pg_ctl stop -m fast`: sessions are cut, transactions in progress rolled back.
    fn stop_fast(&self) -> Result<(), String> {
        run(self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "-t", "30", "stop"]))
        .map(drop)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/bandi", self.port)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.root.join("postgres.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- postgres.log of the private cluster:\n{}",
                self.log_tail()
            );
        }
        let _ = run(self.as_postgres("pg_ctl").arg("-D").arg(self.data()).args([
            "-m",
            "immediate",
            "-w",
            "-t",
            "30",
            "stop",
        ]));
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

const PG_ENTITIES: usize = 240;
const PG_CLIENTS: usize = 16;
/// Receipts given before PostgreSQL is stopped.
const PG_BEFORE_STOP: usize = 60;
/// How long PostgreSQL stays down: longer than the pool's acquire timeout (5 s), so that
/// some requests wait it out and are answered once it is back, and others give up with 503.
const PG_OUTAGE: Duration = Duration::from_secs(6);
/// The longest any request may take, outage included: the acquire timeout and a margin for
/// a loaded machine. Never a hang.
const PG_MAX_LATENCY: Duration = Duration::from_secs(8);

#[derive(Default)]
struct PgBook {
    pending: VecDeque<String>,
    receipts: HashMap<String, Value>,
    /// Entities refused with 503 at least once: their first submission may have been
    /// committed as the connection was cut, so a 200 with the receipt is fine for them.
    in_doubt: HashSet<String>,
    unavailable: usize,
    unavailable_while_down: usize,
    replayed_in_doubt: usize,
    slowest: Duration,
    slowest_503: Duration,
    problems: Vec<String>,
}

impl PgBook {
    fn answer(&mut self, entity: String, reply: Result<Reply, String>, down: bool) -> bool {
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                self.problems.push(format!("{entity}: no answer: {e}"));
                self.in_doubt.insert(entity.clone());
                self.pending.push_back(entity);
                return true;
            }
        };
        self.slowest = self.slowest.max(reply.latency);
        if reply.latency > PG_MAX_LATENCY {
            self.problems.push(format!(
                "{entity}: {} after {:?}",
                reply.status, reply.latency
            ));
        }
        match reply.status {
            200 | 201 => {
                let receipt: Value = serde_json::from_str(&reply.body).expect("receipt JSON");
                assert_eq!(receipt["entity"], entity.as_str());
                if reply.status == 200 {
                    if self.in_doubt.contains(&entity) {
                        self.replayed_in_doubt += 1;
                    } else {
                        self.problems
                            .push(format!("{entity}: 200 for a first submission"));
                    }
                }
                if self.receipts.insert(entity.clone(), receipt).is_some() {
                    self.problems.push(format!("{entity}: a second receipt"));
                }
                false
            }
            503 => {
                if let Some(p) = bad_unavailable(&reply) {
                    self.problems.push(format!("{entity}: {p}"));
                }
                self.unavailable += 1;
                if down {
                    self.unavailable_while_down += 1;
                }
                self.slowest_503 = self.slowest_503.max(reply.latency);
                self.in_doubt.insert(entity.clone());
                self.pending.push_back(entity);
                true
            }
            s => {
                self.problems.push(format!("{entity}: {s} {}", reply.body));
                self.in_doubt.insert(entity.clone());
                self.pending.push_back(entity);
                true
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_load_fails_cleanly_and_the_nodes_reconnect_by_themselves() {
    let cluster = match tokio::task::spawn_blocking(PgCluster::start).await.unwrap() {
        Ok(c) => c,
        Err(why) => {
            println!("SKIPPED: cannot run a private PostgreSQL cluster (root needed): {why}");
            return;
        }
    };
    let cluster = Arc::new(cluster);
    let db = cluster.url();
    let dir = TempDir::new();
    let (entities, tokens) = setup(&db, &dir, PG_ENTITIES).await;
    let (a, b) = tokio::join!(Server::start(&db), Server::start(&db));
    let bases = Arc::new([a.base.clone(), b.base.clone()]);

    let book = Arc::new(Mutex::new(PgBook {
        pending: entities.iter().cloned().collect(),
        ..PgBook::default()
    }));
    let tokens = Arc::new(tokens);
    let down = Arc::new(AtomicBool::new(false));
    let turn = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let client = client();
    let tasks: Vec<_> = (0..PG_CLIENTS)
        .map(|_| {
            let (book, tokens, client, bases, down, turn) = (
                book.clone(),
                tokens.clone(),
                client.clone(),
                bases.clone(),
                down.clone(),
                turn.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let entity = {
                        let mut b = book.lock().unwrap();
                        if b.receipts.len() == PG_ENTITIES
                            || b.problems.len() > 20
                            || started.elapsed().as_secs() > 60
                        {
                            break;
                        }
                        b.pending.pop_front()
                    };
                    let Some(entity) = entity else {
                        // Others hold the last ones; they may come back refused.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    let base = &bases[turn.fetch_add(1, Ordering::Relaxed) % bases.len()];
                    let reply = post(&client, base, &entity, &tokens[&entity]).await;
                    let was_down = down.load(Ordering::SeqCst);
                    let again = book.lock().unwrap().answer(entity, reply, was_down);
                    if again {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            })
        })
        .collect();

    // Stop PostgreSQL once the load is under way, keep it down a while, start it again.
    while book.lock().unwrap().receipts.len() < PG_BEFORE_STOP {
        assert!(started.elapsed() < Duration::from_secs(30), "no load");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let before_stop = book.lock().unwrap().receipts.len();
    let c = cluster.clone();
    down.store(true, Ordering::SeqCst);
    let stopping = Instant::now();
    tokio::task::spawn_blocking(move || c.stop_fast())
        .await
        .unwrap()
        .expect("pg_ctl stop");
    let stopped_in = stopping.elapsed();
    // The API answers what does not need the database while it is down.
    assert_healthy(&bases[0]).await;
    assert_healthy(&bases[1]).await;
    tokio::time::sleep(PG_OUTAGE).await;
    let at_restart = book.lock().unwrap().receipts.len();
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.pg_ctl_start())
        .await
        .unwrap()
        .expect("pg_ctl start");
    let outage = stopping.elapsed();
    down.store(false, Ordering::SeqCst);

    for t in tasks {
        t.await.expect("client task");
    }
    let receipts = {
        let b = book.lock().unwrap();
        println!(
            "PostgreSQL stopped after {before_stop} receipts (stop took {stopped_in:?}), down \
             for {outage:?} with {} receipts given by then; {} answers 503 in all ({} while \
             down), {} first answers lost and replayed (200); slowest answer {:?}, slowest 503 \
             {:?}; {:?} end to end",
            at_restart,
            b.unavailable,
            b.unavailable_while_down,
            b.replayed_in_doubt,
            b.slowest,
            b.slowest_503,
            started.elapsed()
        );
        assert!(b.problems.is_empty(), "{:#?}", b.problems);
        assert_eq!(
            b.receipts.len(),
            PG_ENTITIES,
            "the nodes did not recover: {} receipts",
            b.receipts.len()
        );
        assert!(
            b.unavailable > 0,
            "no request was refused: the outage missed the load"
        );
        b.receipts.clone()
    };
    assert_healthy(&bases[0]).await;
    assert_healthy(&bases[1]).await;
    // Both nodes read the same ranking after reconnecting.
    assert_eq!(
        ranking(&client, &bases[0]).await,
        ranking(&client, &bases[1]).await
    );
    check_receipts(&bases[1], &db, &receipts, &tokens).await;
    drop((a, b));
}
