//! `bandi review …`, `bandi calls budget`, `bandi calls publish-list`: the officials' actions
//! from the command line, each printing what changed and a last line of JSON; each refusal
//! exits non-zero, says why, and changes nothing.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

const PASSWORD: &str = "una password lunga per la prova";

fn add_user(db: &str, email: &str, role: &str) {
    let mut child = Command::new(BIN)
        .args([
            "--database",
            db,
            "users",
            "add",
            "--email",
            email,
            "--name",
            email,
        ])
        .args(["--role", role, "--password-stdin"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bandi runs");
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success(), "users add {email}");
}

fn json_line(run: &Run) -> Value {
    serde_json::from_str(&run.last_line()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officials_decide_from_the_command_line() {
    let db = TestDb::sqlite();
    // Two grants fit; the third waits.
    let code = seed(&db.url, Some(11_000_000));
    let entities = er_comuni(3);
    let tokens = issue_tokens(&db.url, &entities);
    add_user(&db.url, "anna@regione.it", "reviewer");
    add_user(&db.url, "capo@regione.it", "admin");
    let server = Server::start(&db.url).await;
    let client = client();
    let mut protocols = Vec::new();
    for e in &entities {
        match submit(&client, &server.base, &code, e, &tokens[e]).await {
            Answer::Receipt {
                status: 201,
                receipt,
            } => protocols.push(receipt["protocol"].as_str().unwrap().to_string()),
            other => panic!("{other:?}"),
        }
    }
    let review = |args: &[&str]| {
        let mut all = vec!["review"];
        all.extend_from_slice(args);
        bandi(&db.url, &all)
    };
    let second = protocols[1].to_lowercase();
    let target = [
        "--call",
        &code,
        "--protocol",
        &second,
        "--as",
        "anna@regione.it",
    ];
    let with = |cmd: &str, extra: &[&str]| {
        let mut a = vec![cmd];
        a.extend_from_slice(&target);
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        review(&refs)
    };
    let before = verify(&db.url);

    // Refusals: deciding before taking, an unknown account, an unknown protocol, the
    // wrong call, reduce without amounts. Nothing changes.
    let r = run(with("reject", &["--reason", "no"])).fails();
    assert!(r.stderr.contains("not_held"), "{}", r.stderr);
    let r = review(&[
        "take",
        "--call",
        &code,
        "--protocol",
        &second,
        "--as",
        "nobody@x.it",
    ])
    .fails();
    assert!(r.stderr.contains("nobody@x.it"), "{}", r.stderr);
    let r = review(&[
        "take",
        "--call",
        &code,
        "--protocol",
        "ER-SW-2020/0099999",
        "--as",
        "anna@regione.it",
    ])
    .fails();
    assert!(r.stderr.contains("not_found"), "{}", r.stderr);
    let r = review(&[
        "take",
        "--call",
        "altro-bando",
        "--protocol",
        &second,
        "--as",
        "anna@regione.it",
    ])
    .fails();
    assert!(r.stderr.contains("not of altro-bando"), "{}", r.stderr);
    assert_eq!(verify(&db.url), before, "refusals change nothing");

    // Take, then reject: the third application gets the money at once.
    let t = json_line(&run(with("take", &[])).ok());
    assert_eq!(
        (t["action"].as_str(), t["review_state"].as_str()),
        (Some("take"), Some("in_review"))
    );
    let r = run(with("reduce", &["--reason", "x"])).fails();
    assert!(
        r.stderr.contains("--eligible-cents or --line"),
        "{}",
        r.stderr
    );
    let rejected = run(with("reject", &["--reason", "Manca il piano formativo."])).ok();
    let j = json_line(&rejected);
    assert_eq!(j["review_state"], "rejected");
    let changed: Vec<(String, String)> = j["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["protocol"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        vec![
            (protocols[1].clone(), "rejected".to_string()),
            (protocols[2].clone(), "reserved".to_string())
        ]
    );
    assert!(rejected.stdout.contains(&format!(
        "{}  waitlisted → reserved  0,00 € → 52.500,00 €",
        protocols[2]
    )));
    // Rejected twice: refused.
    let r = run(with("reject", &["--reason", "again"])).fails();
    assert!(r.stderr.contains("wrong_state"), "{}", r.stderr);

    // Admission with a reduction by category (the only training line), in one command.
    let third = protocols[2].clone();
    let t3 = [
        "--call",
        code.as_str(),
        "--protocol",
        third.as_str(),
        "--as",
        "anna@regione.it",
    ];
    review(&[&["take"][..], &t3[..]].concat()).ok();
    for item in [
        "eligible_body",
        "three_parts",
        "costs_eligible",
        "approving_act",
    ] {
        review(
            &[
                &["check"][..],
                &t3[..],
                &["--item", item, "--passed", "yes"][..],
            ]
            .concat(),
        )
        .ok();
    }
    let admitted = json_line(
        &review(
            &[
                &["admit"][..],
                &t3[..],
                &[
                    "--line",
                    "training=5000000",
                    "--reason",
                    "Ammessa con riduzione.",
                ][..],
            ]
            .concat(),
        )
        .ok(),
    );
    assert_eq!(admitted["review_state"], "admitted");
    assert_eq!(admitted["requested_cents"], 3_500_000);
    assert_eq!(
        admitted["ledger"].as_array().unwrap().len(),
        2,
        "a reduction, then the admission"
    );

    // The budget: refused below what is reserved; a top-up by an act.
    let r = bandi(
        &db.url,
        &[
            "calls",
            "budget",
            &code,
            "--add-cents",
            "-10000000",
            "--act",
            "DGR 1",
            "--as",
            "capo@regione.it",
        ],
    )
    .fails();
    assert!(r.stderr.contains("budget_below_reserved"), "{}", r.stderr);
    let r = bandi(
        &db.url,
        &[
            "calls",
            "budget",
            &code,
            "--add-cents",
            "100",
            "--act",
            "DGR 1",
            "--as",
            "anna@regione.it",
        ],
    )
    .fails();
    assert!(r.stderr.contains("forbidden"), "{}", r.stderr);
    let b = json_line(
        &bandi(
            &db.url,
            &[
                "calls",
                "budget",
                &code,
                "--add-cents",
                "145000000",
                "--act",
                "DGR 1234/2020",
                "--act-date",
                "2020-06-15",
                "--as",
                "capo@regione.it",
            ],
        )
        .ok(),
    );
    assert_eq!(b["budget_cents"], 11_000_000 + 145_000_000);

    // A published list, with its act.
    let dir = TempDir::new();
    let pdf = dir.write("atto.pdf", "%PDF-1.4\natto di approvazione\n%%EOF\n");
    let p = bandi(
        &db.url,
        &[
            "calls",
            "publish-list",
            &code,
            "--act",
            "DD 100/2020",
            "--act-date",
            "2020-07-01",
            "--act-file",
            &pdf,
            "--as",
            "capo@regione.it",
        ],
    )
    .ok();
    assert_eq!(json_line(&p)["version"], 1);
    let (status, lists) = get_json(
        &client,
        &format!("{}/calls/{code}/ranking", server.base),
        None,
    )
    .await;
    assert_eq!(status, 200, "{lists}");

    // After the award: no verification nor balance before a report; the CUP, an extension,
    // then a revocation, each printing its last line of JSON.
    let admin3 = [
        "--call",
        code.as_str(),
        "--protocol",
        third.as_str(),
        "--as",
        "capo@regione.it",
    ];
    let r = bandi(&db.url, &[&["reports", "close"][..], &t3[..]].concat()).fails();
    assert!(r.stderr.contains("report_wrong_state"), "{}", r.stderr);
    let r = bandi(
        &db.url,
        &[
            &["payments", "record"][..],
            &admin3[..],
            &[
                "--amount-cents",
                "100",
                "--paid-on",
                "2020-12-20",
                "--act",
                "DD 1/2021",
            ][..],
        ]
        .concat(),
    )
    .fails();
    assert!(r.stderr.contains("report_wrong_state"), "{}", r.stderr);
    let r = bandi(
        &db.url,
        &[
            &["awards", "extend"][..],
            &admin3[..],
            &["--until", "2099-01-31", "--reason", "Ritardi."][..],
        ]
        .concat(),
    )
    .fails();
    assert!(
        r.stderr.contains("not_reportable"),
        "no CUP yet: {}",
        r.stderr
    );
    review(&[&["cup"][..], &t3[..], &["--cup", "E41B20000150002"][..]].concat()).ok();
    let e = json_line(
        &bandi(
            &db.url,
            &[
                &["awards", "extend"][..],
                &admin3[..],
                &[
                    "--until",
                    "2099-01-31",
                    "--reason",
                    "Ritardi del fornitore.",
                ][..],
            ]
            .concat(),
        )
        .ok(),
    );
    assert_eq!(e["until"], "2099-01-31");
    assert_eq!(e["ledger"][0]["kind"], "report_deadline_extended");
    let v = json_line(
        &bandi(
            &db.url,
            &[
                &["awards", "revoke"][..],
                &admin3[..],
                &[
                    "--reason",
                    "Progetto non realizzato.",
                    "--act",
                    "DGR 99/2021",
                    "--act-date",
                    "2021-03-01",
                ][..],
            ]
            .concat(),
        )
        .ok(),
    );
    assert_eq!(v["ledger"][0]["kind"], "award_revoked");
    assert!(
        v["changed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["protocol"] == third.as_str() && c["status"] == "revoked"),
        "{v}"
    );

    // The open data from the command line: the same bytes the pages and the API serve.
    let x = bandi(&db.url, &["export", "transparency", "--call", &code]).ok();
    let exported: serde_json::Value = serde_json::from_str(&x.stdout).expect("JSON");
    let (status, served) = get_json(
        &client,
        &format!("{}/calls/{code}/grants", server.base),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(exported, served);
    let revoked = exported["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["protocol"] == third.as_str())
        .expect("the revoked grant is published");
    assert_eq!(revoked["stage"], "revoked");
    assert_eq!(revoked["revocation"]["act"]["number"], "DGR 99/2021");
    let out = dir.write("contributi.csv", "");
    bandi(&db.url, &["export", "csv", "--call", &code, "--out", &out]).ok();
    let csv = std::fs::read(&out).unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBFCodice bando;"), "BOM and ';'");
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + exported["grants"].as_array().unwrap().len()
    );
    assert!(csv.contains(";DGR 99/2021;01/03/2021;"), "{csv}");
    let all = bandi(&db.url, &["export", "360giving"]).ok();
    let package: serde_json::Value = serde_json::from_str(&all.stdout).expect("JSON");
    assert_eq!(
        package["grants"].as_array().unwrap().len(),
        exported["grants"].as_array().unwrap().len(),
        "one call: every call's package holds its grants"
    );
    assert_eq!(package["grants"][0]["currency"], "EUR");
    for (args, needle) in [
        (
            &["export", "csv", "--call", "nessuno"][..],
            "call_not_found",
        ),
        (&["export", "csv", "--call", "../x"][..], "call_not_found"),
        (
            &["export", "xlsx"][..],
            "one of transparency, 360giving, csv",
        ),
    ] {
        let r = bandi(&db.url, args).fails();
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}");
    }
    let r = bandi(
        &db.url,
        &["export", "csv", "--out", "/nonexistent-dir/x.csv"],
    )
    .fails();
    assert!(
        r.stderr.contains("cannot write /nonexistent-dir/x.csv"),
        "{}",
        r.stderr
    );

    // An official's API token: the review through the API, as the officials' scripts use it.
    let t = bandi(&db.url, &["tokens", "issue", "--user", "anna@regione.it"]).ok();
    let token = t.last_line();
    assert!(token.starts_with("bnu_"), "{token}");
    let (status, review) = get_json(
        &client,
        &format!("{}/calls/{code}/applications/1/review", server.base),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200, "{review}");
    assert_eq!(review["protocol"], protocols[0].as_str());
    let (status, _) = get_json(
        &client,
        &format!("{}/calls/{code}/applications/1/review", server.base),
        Some(&tokens[&entities[0]]),
    )
    .await;
    assert_eq!(status, 403, "an entity's token is not an official's");
    let e = bandi(
        &db.url,
        &["tokens", "issue", "--user", "nessuno@regione.it"],
    )
    .fails();
    assert!(e.stderr.contains("(not_found)"), "{}", e.stderr);
    assert!(verify(&db.url).starts_with("ok:"));
}

/// Runs `bandi users set-password --email EMAIL --password-stdin` with `password` on stdin.
fn set_password(db: &str, email: &str, password: &str) -> Run {
    let mut child = Command::new(BIN)
        .args(["--database", db, "users", "set-password", "--email", email])
        .arg("--password-stdin")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bandi runs");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        args: format!("users set-password --email {email}"),
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn accounts_are_disabled_enabled_and_given_a_new_password_from_the_command_line() {
    let db = TestDb::sqlite();
    seed(&db.url, None);
    add_user(&db.url, "anna@regione.it", "reviewer");
    let store = bandi_store::Store::connect(&db.url).await.unwrap();
    let hash = |store: bandi_store::Store| async move {
        store
            .user_by_email("anna@regione.it")
            .await
            .unwrap()
            .unwrap()
    };
    let (before, old_hash) = hash(store.clone()).await;
    assert!(!before.disabled);

    let r = bandi(&db.url, &["users", "disable", "--email", "Anna@Regione.it"]).ok();
    assert!(
        r.stdout.contains("account anna@regione.it disabled"),
        "{}",
        r.stdout
    );
    assert!(hash(store.clone()).await.0.disabled);
    bandi(&db.url, &["users", "enable", "--email", "anna@regione.it"]).ok();
    assert!(!hash(store.clone()).await.0.disabled);

    // A password that breaks the rule changes nothing; a good one replaces the old.
    let r = set_password(&db.url, "anna@regione.it", "corta").fails();
    assert!(r.stderr.contains("nothing changed"), "{}", r.stderr);
    assert_eq!(hash(store.clone()).await.1, old_hash);
    let r = set_password(&db.url, "anna@regione.it", "una nuova password lunga").ok();
    assert!(r.stdout.contains("new password set"), "{}", r.stdout);
    assert_ne!(hash(store.clone()).await.1, old_hash);

    // Nobody with that address: said, exit non-zero.
    for args in [
        &["users", "disable", "--email", "nessuno@regione.it"][..],
        &["users", "enable", "--email", "x"][..],
    ] {
        let r = bandi(&db.url, args).fails();
        assert!(r.stderr.contains("(not_found)"), "{args:?}: {}", r.stderr);
    }
    let r = set_password(&db.url, "nessuno@regione.it", "una nuova password lunga").fails();
    assert!(r.stderr.contains("(not_found)"), "{}", r.stderr);
}

#[tokio::test]
async fn an_account_for_spid_and_cie_is_added_with_a_fiscal_code_and_no_password() {
    let db = TestDb::sqlite();
    seed(&db.url, None);
    let add = |code: &'static str, email: &'static str| {
        bandi(
            &db.url,
            &[
                "users",
                "add",
                "--email",
                email,
                "--name",
                "Mario Rossi",
                "--role",
                "applicant",
                "--entity",
                "039007",
                "--fiscal-code",
                code,
            ],
        )
    };
    // A wrong check letter: nothing created, the field named.
    let r = add("RSSMRA80A01H501V", "mario@cervia.it").fails();
    assert!(
        r.stderr.contains("nothing created") && r.stderr.contains("fiscal code"),
        "{}",
        r.stderr
    );
    let r = add("rssmra80a01h501u", "mario@cervia.it").ok();
    assert!(
        r.stderr
            .contains("signing in with SPID/CIE as RSSMRA80A01H501U"),
        "{}",
        r.stderr
    );
    let store = bandi_store::Store::connect(&db.url).await.unwrap();
    let (user, hash) = store
        .user_by_email("mario@cervia.it")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash, "", "no password opens it");
    assert_eq!(
        user.fiscal_code.map(|c| c.to_string()).as_deref(),
        Some("RSSMRA80A01H501U")
    );
    // Without a fiscal code a password is still required.
    let r = bandi(
        &db.url,
        &[
            "users",
            "add",
            "--email",
            "x@cervia.it",
            "--name",
            "X",
            "--role",
            "applicant",
            "--entity",
            "039007",
        ],
    )
    .fails();
    assert!(r.stderr.contains("--password-stdin"), "{}", r.stderr);
}
