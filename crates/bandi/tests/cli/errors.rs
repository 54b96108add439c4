//! Mistakes on the command line exit non-zero, say what is wrong, and change nothing.

use crate::support::*;

#[test]
fn an_unknown_key_in_a_call_file_is_named_with_its_line_and_publishes_nothing() {
    let db = TestDb::sqlite();
    let dir = TempDir::new();
    let text = std::fs::read_to_string(CALL_FILE).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let budget_line = lines
        .iter()
        .position(|l| l.starts_with("budget ="))
        .expect("the call file has a budget");
    lines.insert(budget_line + 1, "bugdet = 3");
    let typo_line = budget_line + 2; // 1-based
    let bad = dir.write("typo.toml", &(lines.join("\n") + "\n"));
    let before = verify(&db.url);

    let run = bandi(&db.url, &["calls", "import", &bad, "--opens-at", "now"]).fails();
    assert!(
        run.stderr.contains("bugdet") && run.stderr.contains(&format!("line {typo_line}")),
        "the error must name the key and line {typo_line}:\n{}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "nothing printed as if a call was published");
    let after = verify(&db.url);
    assert_eq!(after, before);
    assert!(after.contains(" 0 calls"), "{after}");
}

#[test]
fn a_bad_entities_file_names_every_bad_line_and_imports_nothing() {
    let db = TestDb::sqlite();
    let dir = TempDir::new();
    let csv = "code,name,kind,fiscal_code,province,members\n\
               ente_uno,Ente Uno,comune,,BO,\n\
               ente_due,Ente Due,municipio,,BO,\n\
               ente_tre,Ente Tre,comune,,MO,\n\
               ente quattro,Ente Quattro,comune,,MO,\n\
               ente_cinque,Ente Cinque,comune,,RA,\n";
    let bad = dir.write("entities.csv", csv);

    let run = bandi(&db.url, &["entities", "import", &bad, "--region", "08"]).fails();
    for needle in ["line 3", "line 5", "municipio", "nothing imported"] {
        assert!(
            run.stderr.contains(needle),
            "the error must mention {needle:?}:\n{}",
            run.stderr
        );
    }
    for line in ["line 2", "line 4", "line 6"] {
        assert!(
            !run.stderr.contains(line),
            "good {line} reported:\n{}",
            run.stderr
        );
    }
    // The good rows were not imported either: they cannot get a token.
    for good in ["ente_uno", "ente_tre", "ente_cinque"] {
        let t = bandi(&db.url, &["tokens", "issue", "--entity", good]).fails();
        assert_eq!(t.stdout, "", "a token was printed for {good}");
        assert!(t.stderr.contains(good), "{}", t.stderr);
    }

    // The same file, corrected, imports all five.
    let fixed = dir.write(
        "fixed.csv",
        &csv.replace("municipio", "comune")
            .replace("ente quattro", "ente_quattro"),
    );
    let run = bandi(&db.url, &["entities", "import", &fixed, "--region", "08"]).ok();
    assert!(
        run.stdout.starts_with("5 entities imported"),
        "{}",
        run.stdout
    );
    bandi(&db.url, &["tokens", "issue", "--entity", "ente_quattro"]).ok();
}

#[test]
fn bad_instants_and_budgets_are_refused_before_anything_is_published() {
    let db = TestDb::sqlite();
    let before = verify(&db.url);
    let cases: [(&[&str], &str); 4] = [
        (&["--opens-at", "garbage"], "garbage"),
        (
            &["--opens-at", "now", "--closes-at", "tomorrow"],
            "tomorrow",
        ),
        (
            &[
                "--opens-at",
                "2030-01-02T00:00:00Z",
                "--closes-at",
                "2030-01-01T00:00:00Z",
            ],
            "closing instant must come after",
        ),
        (&["--budget-cents", "0"], "--budget-cents"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["calls", "import", CALL_FILE];
        args.extend_from_slice(extra);
        let run = bandi(&db.url, &args).fails();
        assert!(
            run.stderr.contains(needle),
            "`{}`: the error must mention {needle:?}:\n{}",
            run.args,
            run.stderr
        );
        assert_eq!(run.stdout, "", "`{}` printed a call code", run.args);
    }
    assert_eq!(
        verify(&db.url),
        before,
        "a refused import changed the ledger"
    );
}

#[test]
fn a_token_for_an_unknown_entity_is_refused_and_none_is_printed() {
    let db = TestDb::sqlite();
    bandi(&db.url, &["entities", "import", UNIONI, "--region", "08"]).ok();
    let run = bandi(&db.url, &["tokens", "issue", "--entity", "nope"]).fails();
    assert!(
        run.stderr.contains("nope") && run.stderr.contains("not found"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    // A known one works on the same database.
    let token = bandi(&db.url, &["tokens", "issue", "--entity", "ucdc"])
        .ok()
        .last_line();
    assert!(token.starts_with("bnd_"), "{token}");
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let dir = TempDir::new();
    let file = dir.write("not-a-folder", "x");
    let under_a_file = format!("sqlite:{file}/bandi.db");
    let cases = [
        ("mysql://localhost/bandi", "unsupported database URL"),
        ("bandi.db", "unsupported database URL"),
        (under_a_file.as_str(), "cannot open the database"),
    ];
    for (url, needle) in cases {
        let run = bandi(url, &["verify"]).fails();
        assert!(
            run.stderr.contains(needle) && run.stderr.contains(url),
            "--database {url}: the error must say {needle:?} and name the URL:\n{}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
    // Nothing was created next to the test for the relative URL.
    assert!(!std::path::Path::new("bandi.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_applications_cannot_be_imported_again() {
    let db = TestDb::sqlite();
    let code = seed(&db.url, None);
    let tokens = issue_tokens(&db.url, &["039007".to_string()]);
    let server = Server::start(&db.url).await;
    let client = client();
    let receipt = match submit(&client, &server.base, &code, "039007", &tokens["039007"]).await {
        Answer::Receipt {
            status: 201,
            receipt,
        } => receipt,
        other => panic!("submission: {other:?}"),
    };
    let (_, call_before) = get_json(&client, &format!("{}/calls/{code}", server.base), None).await;
    let ledger_before = verify(&db.url);

    for extra in [
        &["--opens-at", "now"][..],
        &[][..],
        &["--budget-cents", "100"][..],
    ] {
        let mut args = vec!["calls", "import", CALL_FILE];
        args.extend_from_slice(extra);
        let run = bandi(&db.url, &args).fails();
        // The call has opened (and has an application): its rules can no longer change,
        // from the command line as from the pages.
        assert!(
            run.stderr.contains("can no longer change"),
            "`{}`: {}",
            run.args,
            run.stderr
        );
    }

    let (_, call_after) = get_json(&client, &format!("{}/calls/{code}", server.base), None).await;
    for field in ["opens_at", "closes_at", "budget_cents", "applications"] {
        assert_eq!(call_after[field], call_before[field], "{field} changed");
    }
    assert_eq!(verify(&db.url), ledger_before);
    let id = receipt["id"].as_str().unwrap();
    let (status, app) = get_json(
        &client,
        &format!("{}/applications/{id}", server.base),
        Some(&tokens["039007"]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app["protocol"], receipt["protocol"]);
}
