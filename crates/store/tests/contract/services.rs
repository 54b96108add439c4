//! The services catalogue: imported whole, a later file changes, adds and withdraws, and
//! withdrawn services are still known by code.

use bandi_domain::money::Money;
use bandi_domain::service::Catalogue;
use bandi_store::CatalogueImport;
use bandi_store::testing::TestDb;

use crate::support::*;

fn catalogue(services: &[(&str, &str)]) -> Catalogue {
    let mut text = String::from("provider = \"Lepida (prova)\"\n");
    for (code, price) in services {
        text.push_str(&format!(
            "[[service]]\ncode = \"{code}\"\nname = \"Servizio {code}\"\nkind = \"cloud_hosting\"\nunit = \"mese\"\nunit_price = \"{price}\"\n"
        ));
    }
    Catalogue::from_toml(&text).unwrap()
}

pub async fn the_catalogue_is_imported_whole_and_withdrawn_services_stay_known(db: &TestDb) {
    let store = open(db).await;
    assert_eq!(store.catalogue().await.unwrap(), None);
    let first = catalogue(&[("VM", "85.00"), ("VDI", "30.00"), ("MAIL", "2.50")]);
    let now = instant("2026-12-01T09:00:00Z");
    let got = store.import_catalogue(&first, now).await.unwrap();
    assert_eq!(
        got,
        CatalogueImport {
            added: 3,
            ..CatalogueImport::default()
        }
    );
    assert_eq!(store.catalogue().await.unwrap().as_ref(), Some(&first));
    // The same file again changes nothing.
    let again = store.import_catalogue(&first, now).await.unwrap();
    assert_eq!(again.unchanged, 3);
    assert_eq!((again.added, again.changed, again.withdrawn), (0, 0, 0));

    // A new price, a service gone, a new one, another order.
    let second = catalogue(&[("NET", "40.00"), ("VM", "90.00"), ("VDI", "30.00")]);
    let got = store.import_catalogue(&second, now).await.unwrap();
    assert_eq!(
        got,
        CatalogueImport {
            added: 1,
            changed: 1,
            unchanged: 1,
            withdrawn: 1
        }
    );
    let now_kept = store.catalogue().await.unwrap().unwrap();
    let codes: Vec<&str> = now_kept.services.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["NET", "VM", "VDI"]);
    assert_eq!(
        now_kept.service("VM").unwrap().unit_price,
        Money::from_cents(9_000)
    );
    let ever: Vec<String> = store
        .services_ever()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.code)
        .collect();
    assert!(ever.contains(&"MAIL".to_string()), "{ever:?}");

    // Back in a later file: no longer withdrawn.
    let third = catalogue(&[("MAIL", "2.50")]);
    let got = store.import_catalogue(&third, now).await.unwrap();
    assert_eq!((got.changed, got.withdrawn), (1, 3));
    assert_eq!(store.catalogue().await.unwrap(), Some(third));
}
