//! The live statuses of an entity's applications on its dashboard: the stream of the
//! entity's own applications, updated when a status changes, and nothing for others.

use jiff::SignedDuration;
use reqwest::StatusCode;

use super::{Browser, PASSWORD, form_path, good_fields, hidden, start};
use crate::pages::tests::next_event_with;

async fn submit(b: &mut Browser, entity: &str) {
    let page = b.get(&form_path(entity)).await;
    let (csrf, nonce) = (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"));
    let r = b
        .post(&form_path(entity), &good_fields(&csrf, &nonce, "submit"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

async fn stream(b: &Browser, query: &str) -> reqwest::Response {
    b.client
        .get(format!("{}/area-riservata/stati{query}", b.base))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap()
}

on_both_backends! {
    async fn the_dashboard_follows_the_statuses_of_its_entity_only(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
    let mut cervia = Browser::new(&app);
    cervia.sign_in("cervia@example.it", PASSWORD).await;
    let mut ucdc = Browser::new(&app);
    ucdc.sign_in("ucdc@example.it", PASSWORD).await;
    submit(&mut cervia, "039007").await;
    submit(&mut ucdc, "ucdc").await;
    let apps = app.store.call_applications(super::super::CODE).await.unwrap();
    let mine = apps.iter().find(|a| a.receipt.entity == "039007").unwrap();
    let theirs = apps.iter().find(|a| a.receipt.entity == "ucdc").unwrap();

    let page = cervia.get("/area-riservata").await;
    assert!(
        page.body
            .contains("data-events=\"/area-riservata/stati?ente=039007\"")
    );
    assert!(
        page.body
            .contains(&format!("data-id=\"{}\"", mine.receipt.id))
    );
    // The cells the script updates, as the grant_cells macro writes them.
    assert!(page.body.contains(
        "<span class=\"status status-reserved\" data-field=\"status\">Finanziabile: fondi riservati</span>"
    ));

    let mut res = stream(&cervia, "?ente=039007").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut buf = String::new();
    let first = next_event_with(&mut res, &mut buf, "event: statuses").await;
    assert!(first.contains(&mine.receipt.id), "{first}");
    assert!(first.contains("Finanziabile: fondi riservati"), "{first}");
    assert!(first.contains("52.500,00 €"), "{first}");
    assert!(
        !first.contains(&theirs.receipt.id),
        "nothing of another entity"
    );
    assert!(!first.contains(&theirs.receipt.protocol));

    // A later decision (officials' reviews write it; here, straight into the database)
    // reaches the open dashboard without a reload.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    sqlx::query("UPDATE applications SET status = 'rejected', reserved_cents = 0 WHERE id = $1")
        .bind(&mine.receipt.id)
        .execute(&pool)
        .await
        .unwrap();
    let next = next_event_with(&mut res, &mut buf, "Non ammessa").await;
    assert!(next.contains("\"reserved\":\"0,00 €\""), "{next}");
    assert!(!next.contains(&theirs.receipt.id));

    // The stream of another entity, of no entity, or for someone signed out: nothing.
    let other = stream(&cervia, "?ente=ucdc").await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let none = stream(&cervia, "").await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    let anonymous = Browser::new(&app);
    let res = stream(&anonymous, "?ente=039007").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}
}
