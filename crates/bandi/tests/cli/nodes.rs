//! Two `serve` processes on one PostgreSQL database share one numbering and one budget.

use std::collections::HashSet;

use crate::support::*;

const ENTITIES: usize = 200;
const CLIENTS: usize = 32;
const BUDGET_CENTS: i64 = 200_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_database_number_and_allocate_as_one() {
    let Some(db) = TestDb::postgres().await else {
        println!("skipped: BANDI_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)");
        return;
    };
    seed(&db.url, Some(BUDGET_CENTS));
    let entities = er_comuni(ENTITIES);
    let tokens = issue_tokens(&db.url, &entities);
    let (a, b) = tokio::join!(Server::start(&db.url), Server::start(&db.url));
    let bases = [a.base.clone(), b.base.clone()];

    let done = submit_all(&client(), &bases, &tokens, &entities, CLIENTS).await;
    assert_eq!(done.len(), ENTITIES);
    for s in &done {
        assert_eq!(s.status, 201, "{}: {}", s.entity, s.receipt);
    }
    let per_node = [0, 1].map(|n| done.iter().filter(|s| s.node == n).count());
    assert_eq!(per_node, [ENTITIES / 2, ENTITIES / 2]);

    // Receipts: 1..=200 across both nodes, no gap, no duplicate.
    let mut seqs: Vec<u64> = done
        .iter()
        .map(|s| s.receipt["seq"].as_u64().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=ENTITIES as u64).collect::<Vec<_>>());
    let protocols: HashSet<&str> = done
        .iter()
        .map(|s| s.receipt["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols.len(), ENTITIES, "duplicate protocols");

    // The ranking, read from either node, is the same and matches the receipts.
    let client = client();
    let items = ranking(&client, &bases[0]).await;
    assert_eq!(items, ranking(&client, &bases[1]).await);
    assert_gap_free(&items, ENTITIES);
    for s in &done {
        let row = &items[s.receipt["seq"].as_u64().unwrap() as usize - 1];
        assert_eq!(row["entity_code"], s.entity);
        assert_eq!(row["protocol"], s.receipt["protocol"]);
    }

    // The budget: 38 grants of 52,500.00 € fit in 2 M€, the 39th waits, and so do the rest.
    let fits = (BUDGET_CENTS / GRANT_CENTS) as u64;
    assert_eq!(fits, 38);
    let reserved: i64 = items
        .iter()
        .map(|r| r["reserved_cents"].as_i64().unwrap())
        .sum();
    assert!(reserved <= BUDGET_CENTS, "over-allocated: {reserved}");
    assert_eq!(reserved, fits as i64 * GRANT_CENTS);
    let with_money: Vec<u64> = items
        .iter()
        .filter(|r| r["reserved_cents"].as_i64().unwrap() > 0)
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(with_money, (1..=fits).collect::<Vec<_>>());
    for r in &items {
        let seq = r["seq"].as_u64().unwrap();
        let expected = if seq <= fits {
            "reserved"
        } else {
            "waitlisted"
        };
        assert_eq!(r["status"], expected, "seq {seq}");
    }
    // What each applicant was told at submission agrees with the ranking.
    for s in &done {
        let seq = s.receipt["seq"].as_u64().unwrap();
        let expected = if seq <= fits { GRANT_CENTS } else { 0 };
        assert_eq!(
            s.receipt["reserved_cents"], expected,
            "receipt of seq {seq}"
        );
    }
    for base in &bases {
        let (_, call) = get_json(&client, &format!("{base}/calls/{CALL}"), None).await;
        assert_eq!(call["reserved_cents"], reserved, "{base}: {call}");
        assert_eq!(call["remaining_cents"], BUDGET_CENTS - reserved);
        assert_eq!(call["applications"], ENTITIES);
        assert_eq!(call["waitlisted"], ENTITIES as u64 - fits);
    }
    drop((a, b));
    let summary = verify(&db.url);
    assert!(
        summary.contains(&format!("{ENTITIES} applications")),
        "{summary}"
    );
}
