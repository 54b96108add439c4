//! Practices: Italian search over the domain's stems on both backends (the same words find
//! the same practices), the filters, moderation once, reuse once.

use bandi_domain::entity::EntityKind;
use bandi_domain::practice::{Lever, Licence, PracticeContent, PracticeStatus, search_terms};
use bandi_store::PracticeQuery;
use bandi_store::testing::TestDb;

use crate::support::*;

fn practice(title: &str, summary: &str, levers: Vec<Lever>, call: Option<&str>) -> PracticeContent {
    PracticeContent {
        title: title.into(),
        summary: summary.into(),
        body: "## Dettagli\n\nTesto.".into(),
        levers,
        licence: Licence::DOCUMENTS,
        links: vec!["https://example.it/a".into()],
        call: call.map(str::to_string),
        project: None,
    }
}

pub async fn practices_are_found_in_italian_moderated_and_reused(db: &TestDb) {
    let call = er_call_open();
    let mut entities = comuni(3);
    entities[1].province = Some("RA".into());
    entities[2].kind = EntityKind::Unione;
    let store = open_with(db, &call, &entities).await;
    let [a, b, u] = [code(&entities[0]), code(&entities[1]), code(&entities[2])];
    let add = |entity: String, content: PracticeContent, status: PracticeStatus| {
        let store = store.clone();
        async move {
            let terms = search_terms(&format!(
                "{} {} {}",
                content.title, content.summary, content.body
            ));
            store
                .create_practice(&entity, &content, &terms, status, false)
                .await
                .unwrap()
        }
    };
    let training = add(
        a.clone(),
        practice(
            "Percorsi formativi per i dirigenti",
            "Tre percorsi brevi in aula virtuale per chi guida squadre a distanza.",
            vec![Lever::Training],
            Some(call.code.as_str()),
        ),
        PracticeStatus::Published,
    )
    .await;
    let cloud = add(
        b.clone(),
        practice(
            "Migrazione al cloud regionale",
            "Posta, archivio e postazioni virtuali nei datacenter della regione.",
            vec![Lever::Cloud],
            None,
        ),
        PracticeStatus::Published,
    )
    .await;
    let rules = add(
        u.clone(),
        practice(
            "Regolamento del lavoro agile",
            "Il regolamento con la formazione obbligatoria dei lavoratori agili.",
            vec![Lever::ManagementByObjectives, Lever::Training],
            None,
        ),
        PracticeStatus::Published,
    )
    .await;
    let hidden = add(
        a.clone(),
        practice(
            "Formazione ancora da pubblicare",
            "Una proposta che un ufficio non ha ancora letto e deciso.",
            vec![Lever::Training],
            None,
        ),
        PracticeStatus::Proposed,
    )
    .await;

    let find = |text: &str, q: PracticeQuery| {
        let store = store.clone();
        let terms = search_terms(text);
        async move {
            let mut found: Vec<i64> = store
                .search_practices(&PracticeQuery { terms, ..q }, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.n)
                .collect();
            found.sort();
            found
        }
    };
    // «formazione» finds «formativi», and the reverse; the proposed one never shows.
    assert_eq!(
        find("formazione", PracticeQuery::default()).await,
        vec![training, rules]
    );
    assert_eq!(
        find("formativo", PracticeQuery::default()).await,
        vec![training, rules]
    );
    assert_eq!(
        find("Formare i DIRIGENTI", PracticeQuery::default()).await,
        vec![training]
    );
    assert_eq!(find("cloud", PracticeQuery::default()).await, vec![cloud]);
    assert_eq!(
        find("", PracticeQuery::default()).await,
        vec![training, cloud, rules]
    );
    assert_eq!(
        find("nulla di simile", PracticeQuery::default()).await,
        Vec::<i64>::new()
    );
    // Words that are query syntax elsewhere are words here.
    for odd in [
        "\"formazione",
        "formazione OR cloud",
        "cloud*",
        "NEAR(cloud)",
        "'; DROP TABLE practices; --",
        "^cloud",
        "-cloud",
    ] {
        store
            .search_practices(
                &PracticeQuery {
                    terms: search_terms(odd),
                    ..PracticeQuery::default()
                },
                10,
            )
            .await
            .unwrap();
    }
    // Filters: lever, kind, province, call.
    let by = |q: PracticeQuery| find("", q);
    assert_eq!(
        by(PracticeQuery {
            lever: Some(Lever::Training),
            ..Default::default()
        })
        .await,
        vec![training, rules]
    );
    assert_eq!(
        by(PracticeQuery {
            kind: Some(EntityKind::Unione),
            ..Default::default()
        })
        .await,
        vec![rules]
    );
    assert_eq!(
        by(PracticeQuery {
            province: Some("RA".into()),
            ..Default::default()
        })
        .await,
        vec![cloud]
    );
    assert_eq!(
        by(PracticeQuery {
            call: Some(call.code.to_string()),
            ..Default::default()
        })
        .await,
        vec![training]
    );
    assert_eq!(
        find(
            "formazione",
            PracticeQuery {
                kind: Some(EntityKind::Comune),
                ..Default::default()
            }
        )
        .await,
        vec![training]
    );

    // Moderation: once.
    assert_eq!(
        store
            .practices_to_decide()
            .await
            .unwrap()
            .iter()
            .map(|p| p.n)
            .collect::<Vec<_>>(),
        vec![hidden]
    );
    assert!(
        store
            .decide_practice(hidden, PracticeStatus::Published, "admin")
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_practice(hidden, PracticeStatus::Refused, "admin")
            .await
            .unwrap()
    );
    assert_eq!(
        store.practice(hidden).await.unwrap().unwrap().status,
        PracticeStatus::Published
    );
    assert_eq!(
        find("formazione", PracticeQuery::default()).await,
        vec![training, rules, hidden]
    );

    // Reuse: once per body; the count and the list follow.
    assert!(store.mark_reuse(training, &b).await.unwrap());
    assert!(!store.mark_reuse(training, &b).await.unwrap());
    assert!(store.mark_reuse(training, &u).await.unwrap());
    let p = store.practice(training).await.unwrap().unwrap();
    assert_eq!(p.reuses, 2);
    assert_eq!(p.content.levers, vec![Lever::Training]);
    assert_eq!(p.entity_name, entities[0].name);
    let names: Vec<String> = store
        .practice_reusers(training)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(
        names,
        vec![entities[1].name.clone(), entities[2].name.clone()]
    );
    assert_eq!(store.entity_practices(&a).await.unwrap().len(), 2);
}
