//! The transparency page of a call and its open data, after a whole life of grants through
//! the use cases: four applications, three admitted and awarded by a published list; one
//! report verified in part and paid; one verified, paid and then revoked (its payment to be
//! recovered); one only awarded; the fourth never admitted. The page, the CSV (read back
//! with `;`, its byte-order mark, Italian decimals), the JSON and the 360Giving package
//! (validated against the standard's vendored schemas) say the same; bad inputs get the
//! Italian 404 page or the JSON error; `?lang=en` gives the English page.

use bandi_app::drafts::Upload;
use bandi_app::review::Which;
use bandi_app::{Actor, App as UseCases};
use bandi_domain::application::IndicatorValue;
use bandi_domain::call::CallCode;
use bandi_domain::entity::{Entity, EntityKind};
use bandi_domain::money::Money;
use bandi_domain::report::verification::{ExpenseOutcome, PaymentKind};
use bandi_domain::report::{Expense, ReportContent};
use bandi_domain::review::{Action, act};
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n";

/// Bologna's fiscal code, as the registry gives it.
pub(super) const BOLOGNA_CF: &str = "01232710374";

fn which(seq: u64) -> Which {
    Which::Seq(CallCode::parse(CODE).unwrap(), seq)
}

/// Submits through the API for `entity` a project of `euros` (a third training, the rest
/// technology), 70% asked, 90 agile workers promised.
async fn submit(app: &App, entity: &str, euros: i64) {
    let token = app.store.issue_token(entity).await.unwrap();
    let cents = euros * 100;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/calls/{CODE}/applications", app.base))
        .bearer_auth(token)
        .json(&json!({
            "title": format!("Lavoro agile {entity}"),
            "summary": "Formazione e cloud",
            "lines": [
                {"category": "training", "description": "Formazione", "amount_cents": cents / 3},
                {"category": "technology", "description": "Postazioni virtuali", "amount_cents": 220_000,
                 "service": {"code": "LEP-VDI", "quantity": 100, "unit_price_cents": 2_200}},
                {"category": "technology", "description": "Cloud", "amount_cents": cents - cents / 3 - 220_000}
            ],
            "indicators": {"staff_total": 180, "agile_workers_before": 4, "agile_workers_target": 90}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
}

fn expense(category: &str, euros: i64) -> Expense {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Rome").unwrap())
        .date()
        .to_string();
    Expense {
        supplier: "Lepida ScpA".into(),
        supplier_tax_id: "02770891204".into(),
        invoice_number: format!("FT-{category}"),
        invoice_date: today.clone(),
        category: category.into(),
        description: "Servizio".into(),
        amount_cents: Money::from_euros(euros),
        paid_on: today,
        documents: vec![],
    }
}

/// The report of `seq`: training and technology, `achieved` agile workers; submitted with
/// its documents, each expense checked (technology accepted up to `tech_accepted`), closed,
/// and the final grant paid.
async fn report_verified_and_paid(
    uc: &UseCases,
    seq: u64,
    (training, technology, tech_accepted): (i64, i64, i64),
    achieved: i64,
) {
    let op = Actor::Operator;
    let content = ReportContent {
        expenses: vec![
            expense("training", training),
            expense("technology", technology),
        ],
        indicators: [(
            "agile_workers_target".to_string(),
            IndicatorValue::Integer(achieved),
        )]
        .into_iter()
        .collect(),
        notes: "Progetto concluso.".into(),
    };
    let uploads = [
        "expense-0-invoice",
        "expense-0-payment",
        "expense-1-invoice",
        "expense-1-payment",
    ]
    .map(|c| Upload::from_bytes(c, "fattura.pdf", PDF.to_vec()))
    .into_iter()
    .collect();
    let saved = uc
        .save_report(&op, &which(seq), content, uploads)
        .await
        .unwrap();
    assert!(saved.problems.is_empty(), "{:?}", saved.problems);
    uc.submit_report(&op, &which(seq)).await.unwrap();
    uc.check_report_expense(&op, &which(seq), 0, ExpenseOutcome::Accepted, None, "")
        .await
        .unwrap();
    if tech_accepted == technology {
        uc.check_report_expense(&op, &which(seq), 1, ExpenseOutcome::Accepted, None, "")
            .await
            .unwrap();
    } else {
        uc.check_report_expense(
            &op,
            &which(seq),
            1,
            ExpenseOutcome::Partial,
            Some(Money::from_euros(tech_accepted)),
            "Canone oltre la durata del progetto.",
        )
        .await
        .unwrap();
    }
    uc.close_verification(&op, &which(seq)).await.unwrap();
    let view = uc.report_view(&op, &which(seq)).await.unwrap();
    let final_grant = view.report.unwrap().final_grant.unwrap();
    uc.record_payment(
        &op,
        &which(seq),
        PaymentKind::Balance,
        final_grant,
        "2020-12-20",
        act("DD 900/2020", "2020-12-20", None).unwrap(),
    )
    .await
    .unwrap();
}

fn body_entity(code: &str, name: &str, kind: EntityKind, province: &str) -> Entity {
    let mut e = crate::testing::entity(code, name, kind, "08");
    e.province = Some(province.into());
    e
}

/// The call of 200,000.00 € open since a minute, and its story (see the module's doc):
///
/// | seq | entity | grant | then |
/// |---|---|---|---|
/// | 1 | Cervia (RA, comune) | 52,500.00 | verified 35,000.00 (50,000 accepted), paid |
/// | 2 | Bologna (BO, comune, fiscal code) | 105,000.00 | verified 56,000.00, paid, revoked |
/// | 3 | Distretto Ceramico (RA, unione, no fiscal code) | 35,000.00 | awarded only |
/// | 4 | Faenza (RA, comune) | asks 70,000.00 | waits, never admitted |
///
/// The list (DD 100/2020 of 15/06/2020) is published after the three admissions.
pub(super) async fn seeded(db: TestDb) -> App {
    let mut call = er_call(SignedDuration::from_mins(-1));
    call.budget = Money::from_euros(200_000);
    let app = start_with(db, &call).await;
    let catalogue = bandi_domain::service::Catalogue::from_toml(
        "provider = \"Lepida (prova)\"\n[[service]]\ncode = \"LEP-VDI\"\nname = \"Postazione virtuale\"\nkind = \"virtual_desktop\"\nunit = \"postazione al mese\"\nunit_price = \"22.00\"\n",
    )
    .unwrap();
    app.store
        .import_catalogue(&catalogue, jiff::Timestamp::now())
        .await
        .unwrap();
    let mut cervia = body_entity("039007", "Comune di Cervia", EntityKind::Comune, "RA");
    cervia.istat_code = Some("039007".into());
    let mut bologna = body_entity("037006", "Comune di Bologna", EntityKind::Comune, "BO");
    bologna.fiscal_code = Some(BOLOGNA_CF.into());
    bologna.istat_code = Some("037006".into());
    let faenza = body_entity("039010", "Comune di Faenza", EntityKind::Comune, "RA");
    app.store
        .upsert_entities(&[cervia, bologna, faenza])
        .await
        .unwrap();
    submit(&app, "039007", 75_000).await;
    submit(&app, "037006", 150_000).await;
    submit(&app, "ucdc", 50_000).await;
    submit(&app, "039010", 100_000).await;

    let uc = UseCases::new(
        app.store.clone(),
        bandi_store::intake::Intake::start(app.store.clone(), 16),
    );
    let op = Actor::Operator;
    for seq in 1..=3 {
        uc.review(&op, &which(seq), Action::Take { takeover: false })
            .await
            .unwrap();
        for item in [
            "eligible_body",
            "three_parts",
            "costs_eligible",
            "approving_act",
        ] {
            uc.review(
                &op,
                &which(seq),
                Action::Check {
                    item: item.into(),
                    passed: true,
                    note: String::new(),
                },
            )
            .await
            .unwrap();
        }
        uc.review(
            &op,
            &which(seq),
            Action::Admit {
                reason: "Conforme.".into(),
            },
        )
        .await
        .unwrap();
    }
    uc.publish_list(
        &op,
        &CallCode::parse(CODE).unwrap(),
        "DD 100/2020",
        "2020-06-15",
        None,
    )
    .await
    .unwrap();
    uc.record_cup(&op, &which(1), "E41B20000150002")
        .await
        .unwrap();
    uc.record_cup(&op, &which(2), "E31B20000160002")
        .await
        .unwrap();
    // Cervia: 50,000.00 spent and accepted, a final grant of 35,000.00, paid.
    report_verified_and_paid(&uc, 1, (20_000, 30_000, 30_000), 85).await;
    // Bologna: 100,000.00 spent, 80,000.00 accepted, 56,000.00 paid, then revoked.
    report_verified_and_paid(&uc, 2, (40_000, 60_000, 40_000), 120).await;
    uc.revoke_award(
        &op,
        &which(2),
        "Dichiarazione non veritiera.",
        act("DGR 77/2021", "2021-02-01", None).unwrap(),
    )
    .await
    .unwrap();
    uc.verify().await.unwrap();
    app
}

pub(super) async fn get(app: &App, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

/// The page from the element with `id` to its end: a row of the table (`</tr>`) or a fact
/// (`</dd>`).
fn by_id<'a>(html: &'a str, id: &str) -> &'a str {
    let needle = format!("id=\"{id}\"");
    let start = html.find(&needle).unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[start..];
    let end = if id.starts_with("grant-") {
        "</tr>"
    } else {
        "</dd>"
    };
    &rest[..rest.find(end).unwrap()]
}

/// A CSV of the open data read back: its byte-order mark checked, `;` between fields.
pub(super) fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 with a byte-order mark"
    );
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let headers = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (headers, rows)
}

fn validate_360(package: &Value) -> Vec<String> {
    let grant: Value =
        serde_json::from_str(include_str!("../../../schema/360-giving-schema.json")).unwrap();
    let schema: Value = serde_json::from_str(include_str!(
        "../../../schema/360-giving-package-schema.json"
    ))
    .unwrap();
    // The package schema names the grant schema by its address: resolved to the file
    // vendored beside it.
    let uri = schema["properties"]["grants"]["items"]["$ref"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(uri.ends_with("/schema/360-giving-schema.json"), "{uri}");
    let registry = jsonschema::Registry::new()
        .add(uri, grant)
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&schema)
        .unwrap();
    validator
        .iter_errors(package)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

on_both_backends! {
    async fn transparency_before_any_grant(db: TestDb) {
    // Before any grant: the page says so, and the call page links it.
    let bare = start(db, SignedDuration::from_mins(-1)).await;
    let page = get(&bare, &format!("/bandi/{CODE}/trasparenza")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("id=\"no-grants\""));
    let call_page = get(&bare, &format!("/bandi/{CODE}")).await.text().await.unwrap();
    assert!(call_page.contains(&format!("href=\"/bandi/{CODE}/trasparenza\"")));
    assert!(call_page.contains(&format!("href=\"/bandi/{CODE}/statistiche\"")));
    let empty: Value = get(&bare, "/360giving.json").await.json().await.unwrap();
    assert_eq!(empty["grants"], json!([]));
    drop(bare);
    }
}

on_both_backends! {
    async fn the_grants_on_the_page_and_in_the_open_data(db: TestDb) {
    let app = seeded(db).await;
    let res = get(&app, &format!("/bandi/{CODE}/trasparenza")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let html = res.text().await.unwrap();
    assert!(html.contains("articoli 26 e 27 del decreto legislativo 14 marzo 2013, n. 33"));
    assert!(html.contains("Bando per il sostegno di progetti di smart working negli enti locali"));
    assert!(by_id(&html, "act-of-award").contains("DD 100/2020 del 15/06/2020"));
    assert!(by_id(&html, "office").contains("Regione Emilia-Romagna – ufficio responsabile del bando"));
    assert!(html.contains("id=\"call-file-note\""));
    assert!(html.contains("in ordine cronologico") || html.contains("ordine cronologico di arrivo"));
    assert!(html.contains("impostato in italiano"));
    // Three grants; Faenza, never admitted, is not one.
    assert_eq!(html.matches("<tr id=\"grant-").count(), 3);
    assert!(!html.contains("Comune di Faenza"));
    let cervia = by_id(&html, "grant-1");
    assert!(cervia.contains("data-stage=\"paid\""));
    assert!(cervia.contains("52.500,00 €") && cervia.contains("35.000,00 €"));
    assert!(cervia.contains("CUP <span class=\"cup\">E41B20000150002</span>"));
    assert!(cervia.contains(&format!("/bandi/{CODE}/elenco?versione=1")));
    assert!(cervia.contains("/registro?protocollo="));
    let bologna = by_id(&html, "grant-2");
    assert!(bologna.contains("data-stage=\"revoked\""));
    assert!(bologna.contains(BOLOGNA_CF));
    assert!(bologna.contains("105.000,00 €") && bologna.contains("56.000,00 €"));
    assert!(bologna.contains("DGR 77/2021 del 01/02/2021"));
    assert!(bologna.contains("<span class=\"amount-to-recover\">56.000,00 €</span>"));
    let ucdc = by_id(&html, "grant-3");
    assert!(ucdc.contains("data-stage=\"awarded\"") && ucdc.contains("35.000,00 €"));
    assert!(ucdc.contains("C.F. non indicato nel registro"));
    assert!(html.contains("revocati 105.000,00 €, da recuperare 56.000,00 €"));

    // English, on request.
    let en = get(&app, &format!("/bandi/{CODE}/trasparenza?lang=en")).await.text().await.unwrap();
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("<h1>Transparency of the grants: Call for smart-working projects"));
    assert!(by_id(&en, "grant-2").contains("€105,000.00"));
    assert!(by_id(&en, "grant-2").contains("DGR 77/2021 of 01/02/2021"));

    // The CSV, read back as a spreadsheet set to Italian reads it.
    let res = get(&app, &format!("/bandi/{CODE}/open-data.csv")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let (headers, rows) = read_csv(&res.bytes().await.unwrap());
    assert_eq!(headers.len(), crate::opendata::sheet::GRANT_HEADERS.len());
    assert_eq!(headers[0], "Codice bando");
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name}"));
    assert_eq!(rows.len(), 3);
    let b = &rows[1];
    assert_eq!(b[col("Beneficiario")], "Comune di Bologna");
    assert_eq!(b[col("Codice fiscale del beneficiario")], BOLOGNA_CF);
    assert_eq!(b[col("Identificativo del beneficiario")], format!("IT-CF-{BOLOGNA_CF}"));
    assert_eq!(b[col("Contributo richiesto")], "105000,00");
    assert_eq!(b[col("Contributo concesso")], "105000,00");
    assert_eq!(b[col("Atto di concessione")], "DD 100/2020");
    assert_eq!(b[col("Data dell'atto di concessione")], "15/06/2020");
    assert_eq!(b[col("Contributo definitivo")], "56000,00");
    assert_eq!(b[col("Erogato")], "56000,00");
    assert_eq!(b[col("Atto di revoca")], "DGR 77/2021");
    assert_eq!(b[col("Data della revoca")], "01/02/2021");
    assert_eq!(b[col("Da recuperare")], "56000,00");
    assert_eq!(b[col("Stato")], "Revocato");
    assert_eq!(rows[0][col("Contributo definitivo")], "35000,00");
    assert_eq!(rows[0][col("CUP")], "E41B20000150002");
    assert_eq!(rows[2][col("Identificativo del beneficiario")], "IT-BANDI-ENTE-ucdc");
    assert_eq!(rows[2][col("Contributo definitivo")], "");
    assert_eq!(rows[2][col("Da recuperare")], "");
    // Every call: the same rows here, as there is one.
    let (_, all) = read_csv(&get(&app, "/open-data.csv").await.bytes().await.unwrap());
    assert_eq!(all, rows);

    // The JSON.
    let v: Value = get(&app, &format!("/api/v1/calls/{CODE}/grants")).await.json().await.unwrap();
    assert_eq!(v["call"], CODE);
    assert_eq!(v["act_of_award"]["number"], "DD 100/2020");
    assert_eq!(v["totals"]["awarded_cents"], 19_250_000);
    assert_eq!(v["totals"]["to_recover_cents"], 5_600_000);
    let g = v["grants"].as_array().unwrap();
    assert_eq!(g.len(), 3);
    assert_eq!(g[0]["final_grant_cents"], 3_500_000);
    assert_eq!(g[0]["paid_cents"], 3_500_000);
    assert_eq!(g[0]["stage"], "paid");
    assert_eq!(g[1]["revocation"]["act"]["number"], "DGR 77/2021");
    assert_eq!(g[1]["revocation"]["to_recover_cents"], 5_600_000);
    assert_eq!(g[1]["beneficiary"]["id"], format!("IT-CF-{BOLOGNA_CF}"));
    assert_eq!(g[2]["award_act"]["list_version"], 1);
    assert_eq!(g[2]["final_grant_cents"], Value::Null);
    let all: Value = get(&app, "/api/v1/grants").await.json().await.unwrap();
    assert_eq!(all["grants"].as_array().unwrap().len(), 3);

    // The 360Giving package: valid against the standard's schemas, with the facts.
    let res = get(&app, &format!("/bandi/{CODE}/360giving.json")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let package: Value = res.json().await.unwrap();
    assert_eq!(validate_360(&package), Vec::<String>::new());
    let grants = package["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 3);
    let c = &grants[0];
    assert_eq!(c["id"], format!("IT-CF-80062590379-{CODE}-1"));
    assert_eq!(c["currency"], "EUR");
    assert_eq!(c["amountAwarded"], json!(52500.0));
    assert_eq!(c["amountDisbursed"], json!(35000.0));
    assert_eq!(c["awardDate"], "2020-06-15");
    assert_eq!(c["fundingOrganization"][0], json!({"id": "IT-CF-80062590379", "name": "Regione Emilia-Romagna"}));
    assert_eq!(c["beneficiaryLocation"][0]["geoCode"], "039007");
    assert_eq!(c["grantProgramme"][0]["code"], CODE);
    assert!(c["plannedDates"][0]["endDate"].is_string());
    assert_eq!(grants[1]["recipientOrganization"][0]["id"], format!("IT-CF-{BOLOGNA_CF}"));
    assert_eq!(grants[2]["recipientOrganization"][0]["id"], "IT-BANDI-ENTE-ucdc");
    let everything: Value = get(&app, "/360giving.json").await.json().await.unwrap();
    assert_eq!(validate_360(&everything), Vec::<String>::new());
    // The validator does catch a package that breaks the standard.
    let mut broken = package.clone();
    broken["grants"][0]["currency"] = json!("LIRE");
    broken["grants"][1].as_object_mut().unwrap().remove("awardDate");
    let errors = validate_360(&broken);
    assert!(errors.iter().any(|e| e.contains("LIRE")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("awardDate")), "{errors:?}");

    // Bad inputs: the Italian 404 page, the API's JSON error.
    for path in ["/bandi/nessuno/trasparenza", "/bandi/nessuno/open-data.csv", "/bandi/nessuno/360giving.json", "/bandi/%FF/trasparenza"] {
        let res = get(&app, path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = res.text().await.unwrap();
        assert!(html.contains("<html lang=\"it\">"), "{path}");
    }
    let html = get(&app, "/bandi/nessuno/trasparenza").await.text().await.unwrap();
    assert!(html.contains("Bando inesistente."));
    assert_eq!(error_code(&html), "404 (call_not_found)");
    let res = get(&app, "/api/v1/calls/nessuno/grants").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["code"], "call_not_found");
    let res = reqwest::Client::new()
        .post(format!("{}/bandi/{CODE}/trasparenza", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
