//! The review after the click day through the use cases, on a real store: every action and
//! every refused action, the waitlist moving in protocol order, a top-up, a published list,
//! the CUP, a request for integration and its answer, the notices written with each event,
//! and `verify` agreeing with all of it.

use bandi_app::drafts::Upload;
use bandi_app::intake::{Content, Submit};
use bandi_app::review::Which;
use bandi_app::{Actor, App, AppError};
use bandi_domain::account::Role;
use bandi_domain::allocation::Status;
use bandi_domain::list::Outcome;
use bandi_domain::money::Money;
use bandi_domain::review::{Action, Cuts, ReviewState, act};
use bandi_store::intake::Accepted;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;

use crate::support::*;

/// Three applications of 75,000 € (grants of 52,500 €) on a budget of 110,000 €: the first
/// two are funded, the third waits.
async fn three_in_line(db: &TestDb) -> (App, Vec<String>) {
    let app = app(db, SignedDuration::from_mins(60)).await;
    let mut call = er_call(SignedDuration::from_mins(-1));
    call.budget = Money::from_euros(110_000);
    app.import_call(&Actor::Operator, &call).await.unwrap();
    let mut protocols = Vec::new();
    for e in ["080001", "080002", "080003"] {
        match app
            .submit(
                &Actor::Entity(e.into()),
                Submit {
                    call: code(),
                    entity: entity(e),
                    idempotency_key: None,
                    content: Content::Json(body(75_000)),
                },
            )
            .await
        {
            Ok(Accepted::Created(r)) => protocols.push(r.protocol),
            other => panic!("{other:?}"),
        }
    }
    (app, protocols)
}

fn seq(n: u64) -> Which {
    Which::Seq(code(), n)
}

async fn standing(app: &App, n: u64) -> (Status, Money, ReviewState) {
    let a = app
        .store()
        .under_review(code().as_str(), n)
        .await
        .unwrap()
        .unwrap();
    (a.status, a.reserved, a.review.state)
}

async fn check_all(app: &App, who: &Actor, n: u64) {
    for item in [
        "eligible_body",
        "three_parts",
        "costs_eligible",
        "approving_act",
    ] {
        app.review(
            who,
            &seq(n),
            Action::Check {
                item: item.into(),
                passed: true,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    }
}

pub async fn reviews_decisions_and_the_waitlist(db: TestDb) {
    let (app, protocols) = three_in_line(&db).await;
    let anna = person(&app, "anna@regione.it", Role::Reviewer, &[]).await;
    let bruno = person(&app, "bruno@regione.it", Role::Reviewer, &[]).await;
    let capo = person(&app, "capo@regione.it", Role::Admin, &[]).await;
    let staff = person(&app, "staff@example.it", Role::Applicant, &["080001"]).await;
    let grant = Money::from_euros(52_500);
    assert_eq!(standing(&app, 3).await.0, Status::Waitlisted);

    // Only officials review; an applicant or a token gets Forbidden.
    for actor in [&staff, &Actor::Entity("080001".into())] {
        assert!(matches!(
            app.review(actor, &seq(1), Action::Take { takeover: false })
                .await,
            Err(AppError::Forbidden)
        ));
    }
    // By protocol as by number; a protocol that does not exist is not found.
    let first =
        Which::Protocol(bandi_domain::protocol::ProtocolNumber::parse(&protocols[0]).unwrap());
    app.review(&anna, &first, Action::Take { takeover: false })
        .await
        .unwrap();
    let nope = Which::Protocol(
        bandi_domain::protocol::ProtocolNumber::parse("ER-SW-2020/0099999").unwrap(),
    );
    assert!(matches!(
        app.review(&anna, &nope, Action::Take { takeover: false })
            .await,
        Err(AppError::NotFound)
    ));

    // Bruno sees who holds it; he cannot decide it nor take it over; the admin can.
    match app
        .review(
            &bruno,
            &seq(1),
            Action::Reject {
                reason: "no".into(),
            },
        )
        .await
    {
        Err(e @ AppError::Review(_)) => assert_eq!(e.code(), "held_by_another"),
        other => panic!("{other:?}"),
    }
    match app
        .review(&bruno, &seq(1), Action::Take { takeover: true })
        .await
    {
        Err(e) => assert_eq!(e.code(), "takeover_not_allowed"),
        other => panic!("{other:?}"),
    }
    // Admission before the checklist: refused, with what is missing.
    match app
        .review(
            &anna,
            &seq(1),
            Action::Admit {
                reason: "ok".into(),
            },
        )
        .await
    {
        Err(e) => assert_eq!(e.code(), "checklist_incomplete"),
        other => panic!("{other:?}"),
    }
    check_all(&app, &anna, 1).await;
    app.review(
        &anna,
        &seq(1),
        Action::Admit {
            reason: "Ammissibile.".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        standing(&app, 1).await,
        (Status::Reserved, grant, ReviewState::Admitted)
    );

    // The second is rejected: its money goes to the third at once, in the same commit.
    app.review(&capo, &seq(2), Action::Take { takeover: false })
        .await
        .unwrap();
    let applied = app
        .review(
            &capo,
            &seq(2),
            Action::Reject {
                reason: "Manca il piano formativo.".into(),
            },
        )
        .await
        .unwrap();
    let moved: Vec<(u64, Status)> = applied.moved.iter().map(|m| (m.seq, m.after.0)).collect();
    assert_eq!(moved, vec![(2, Status::Rejected), (3, Status::Reserved)]);
    assert_eq!(
        standing(&app, 3).await,
        (Status::Reserved, grant, ReviewState::ToReview)
    );
    let stored = app.store().call(code().as_str()).await.unwrap().unwrap();
    assert_eq!(
        (stored.reserved, stored.waitlisted),
        (Money::from_euros(105_000), 0)
    );
    // Rejecting it again, or deciding anything else on it: refused, nothing changes.
    let before = app.store().ledger_page(0, 1000).await.unwrap().len();
    for action in [
        Action::Reject {
            reason: "again".into(),
        },
        Action::Withdraw { reason: "x".into() },
        Action::Take { takeover: true },
    ] {
        match app.review(&capo, &seq(2), action).await {
            Err(e) => assert_eq!(e.code(), "wrong_state"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        app.store().ledger_page(0, 1000).await.unwrap().len(),
        before
    );

    // A reduction of the third, by line, with its reason: the grant recomputed.
    app.review(&anna, &seq(3), Action::Take { takeover: false })
        .await
        .unwrap();
    let cut = Action::Reduce {
        cuts: Cuts::Lines(vec![(0, Money::from_euros(50_000))]),
        reason: "Parte della formazione non è ammissibile.".into(),
    };
    app.review(&anna, &seq(3), cut).await.unwrap();
    let a = app
        .store()
        .under_review(code().as_str(), 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.eligible, a.requested, a.reserved),
        (
            Money::from_euros(50_000),
            Money::from_euros(35_000),
            Money::from_euros(35_000)
        )
    );
    // Reducing above what is asked: refused.
    match app
        .review(
            &anna,
            &seq(3),
            Action::Reduce {
                cuts: Cuts::Total(Money::from_euros(60_000)),
                reason: "x".into(),
            },
        )
        .await
    {
        Err(e) => assert_eq!(e.code(), "not_a_reduction"),
        other => panic!("{other:?}"),
    }

    // A request for integration, seen by the applicant, answered with a document.
    let deadline = jiff::Timestamp::now() + SignedDuration::from_hours(48);
    app.review(
        &anna,
        &seq(3),
        Action::RequestIntegration {
            text: "Inviare la delibera.".into(),
            deadline,
        },
    )
    .await
    .unwrap();
    let staff3 = person(&app, "staff3@example.it", Role::Applicant, &["080003"]).await;
    // Not by someone else's staff.
    assert!(matches!(
        app.answer_integration(&staff, &seq(3), "eccola", vec![])
            .await,
        Err(AppError::NotFound)
    ));
    let pdf: &'static [u8] = b"%PDF-1.7\ndelibera\n%%EOF\n";
    app.answer_integration(
        &staff3,
        &seq(3),
        "In allegato la delibera di approvazione.",
        vec![Upload::from_bytes("", "delibera.pdf", pdf.to_vec())],
    )
    .await
    .unwrap();
    match app
        .answer_integration(&staff3, &seq(3), "di nuovo", vec![])
        .await
    {
        Err(e) => assert_eq!(e.code(), "no_open_request"),
        other => panic!("{other:?}"),
    }
    let requests = app
        .store()
        .integration_requests(code().as_str(), 3)
        .await
        .unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].text, "Inviare la delibera.");
    assert_eq!(
        requests[0].answer.as_ref().unwrap().text,
        "In allegato la delibera di approvazione."
    );
    check_all(&app, &anna, 3).await;
    app.review(
        &anna,
        &seq(3),
        Action::Admit {
            reason: "Ammissibile dopo l'integrazione.".into(),
        },
    )
    .await
    .unwrap();

    // The CUP: by the applicant of a funded one, checked by format; not for a rejected one.
    assert!(matches!(
        app.record_cup(&staff, &seq(1), "E11B2000045000").await,
        Err(AppError::Review(_))
    ));
    app.record_cup(&staff, &seq(1), "e11b20000450002")
        .await
        .unwrap();
    assert!(matches!(
        app.record_cup(&staff, &seq(2), "E11B20000450003").await,
        Err(AppError::NotFound)
    ));
    match app.record_cup(&capo, &seq(2), "E11B20000450003").await {
        Err(e) => assert_eq!(e.code(), "wrong_state"),
        other => panic!("{other:?}"),
    }

    // The applicant of the first gives it up: its money goes back to the call.
    app.withdraw_own(&staff, &seq(1), "Il progetto è finanziato da altri fondi.")
        .await
        .unwrap();
    assert_eq!(standing(&app, 1).await.0, Status::Withdrawn);

    // Notices: one for every step that matters to each entity, in the reserved area.
    let kinds = |e: &str| {
        let store = app.store().clone();
        let e = e.to_string();
        async move {
            let mut k: Vec<&'static str> = store
                .entity_notices(&e)
                .await
                .unwrap()
                .iter()
                .map(|n| n.kind.as_str())
                .collect();
            k.reverse();
            k
        }
    };
    assert_eq!(
        kinds("080001").await,
        ["received", "admitted", "cup_recorded", "withdrawn"]
    );
    assert_eq!(kinds("080002").await, ["received", "rejected"]);
    assert_eq!(
        kinds("080003").await,
        [
            "received",
            "funded",
            "reduced",
            "integration_requested",
            "admitted"
        ]
    );
    app.verify()
        .await
        .expect("verify agrees with every decision");
}

pub async fn top_ups_and_published_lists(db: TestDb) {
    let (app, _) = three_in_line(&db).await;
    let capo = person(&app, "capo@regione.it", Role::Admin, &[]).await;
    let anna = person(&app, "anna@regione.it", Role::Reviewer, &[]).await;
    let act = || act("DGR 1234/2020", "2020-06-15", None).unwrap();
    // Reviewers do not move budgets nor publish lists.
    assert!(matches!(
        app.change_budget(&anna, &code(), Money::from_euros(1), act())
            .await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.publish_list(&anna, &code(), "DGR 1", "2020-06-15", None)
            .await,
        Err(AppError::Forbidden)
    ));
    // Below what is reserved: refused.
    match app
        .change_budget(&capo, &code(), Money::from_euros(-10_000), act())
        .await
    {
        Err(e) => assert_eq!(e.code(), "budget_below_reserved"),
        other => panic!("{other:?}"),
    }
    // The top-up funds the one waiting.
    let applied = app
        .change_budget(&capo, &code(), Money::from_euros(1_450_000), act())
        .await
        .unwrap();
    assert_eq!(applied.moved.iter().map(|m| m.seq).collect::<Vec<_>>(), [3]);
    assert_eq!(standing(&app, 3).await.0, Status::Reserved);
    assert!(matches!(
        app.change_budget(
            &capo,
            &bandi_domain::call::CallCode::parse("no-such-call").unwrap(),
            Money::from_euros(1),
            act()
        )
        .await,
        Err(AppError::CallNotFound)
    ));
    // An act without a date: refused. A published list, then another.
    match app
        .publish_list(&capo, &code(), "DGR 1", "giugno", None)
        .await
    {
        Err(e) => assert_eq!(e.code(), "invalid_act"),
        other => panic!("{other:?}"),
    }
    let pdf: &[u8] = b"%PDF-1.7\natto\n%%EOF\n";
    let (_, v1) = app
        .publish_list(
            &capo,
            &code(),
            "DD 100/2020",
            "2020-05-01",
            Some(Upload::from_bytes("act", "atto.pdf", pdf.to_vec())),
        )
        .await
        .unwrap();
    app.review(&capo, &seq(2), Action::Take { takeover: false })
        .await
        .unwrap();
    app.review(
        &capo,
        &seq(2),
        Action::Reject {
            reason: "Non ammissibile.".into(),
        },
    )
    .await
    .unwrap();
    let (_, v2) = app
        .publish_list(&capo, &code(), "DD 200/2020", "2020-06-01", None)
        .await
        .unwrap();
    assert_eq!((v1, v2), (1, 2));
    let lists = app.store().published_lists(code().as_str()).await.unwrap();
    assert_eq!(lists.iter().map(|l| l.version).collect::<Vec<_>>(), [2, 1]);
    // Each version is frozen as it was: the first still says "in review".
    assert_eq!(lists[1].rows[1].outcome, Outcome::InReview);
    assert_eq!(lists[0].rows[1].outcome, Outcome::NotAdmitted);
    assert!(lists[1].act_document_id.is_some());
    app.verify().await.expect("verify");
}
