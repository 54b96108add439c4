//! The statistics page after the story of [`super::transparency::seeded`]: every chart an
//! accessible SVG (`role="img"`, `<title>`, `<desc>`) beside a table whose numbers are the
//! ones seeded, each table downloadable as CSV in the open data's dialect; an empty call,
//! bad table names and unknown calls; the English page.

use jiff::SignedDuration;
use reqwest::StatusCode;

use super::transparency::{get, read_csv, seeded};
use super::*;

/// The rows of the table `id` of the page, as `(header cell, other cells)` texts.
fn table(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("id=\"table-{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let rest = &html[start..];
    let body = &rest[rest.find("<tbody>").unwrap() + 7..rest.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let mut cells = Vec::new();
            let mut rest = row;
            while let Some(i) = rest.find(['<']) {
                let tag = &rest[i + 1..];
                if tag.starts_with("th") || tag.starts_with("td") {
                    let text = &tag[tag.find('>').unwrap() + 1..];
                    cells.push(text[..text.find('<').unwrap()].trim().to_string());
                }
                rest = tag;
            }
            cells
        })
        .collect()
}

/// The `<svg>` of the chart of table `id`.
fn svg<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"chart-{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let start = html[..start].rfind("<svg").unwrap();
    let end = start + html[start..].find("</svg>").unwrap() + 6;
    &html[start..end]
}

fn cells(rows: &[Vec<String>]) -> Vec<Vec<&str>> {
    rows.iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect()
}

on_both_backends! {
    async fn statistics_of_an_empty_call(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
    let res = get(&app, &format!("/bandi/{CODE}/statistiche")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Nessuna domanda ricevuta."));
    assert!(html.contains("Nessun contributo concesso."));
    // The money's path has its six steps even at zero.
    assert_eq!(table(&html, "percorso-delle-risorse").len(), 6);
    let (headers, rows) = read_csv(
        &get(&app, &format!("/bandi/{CODE}/statistiche/domande-per-minuto.csv"))
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(headers, ["Minuto", "Domande", "Domande in totale"]);
    assert!(rows.is_empty());
    }
}

on_both_backends! {
    async fn statistics_with_charts_and_tables(db: TestDb) {
    let app = seeded(db).await;
    let res = get(&app, &format!("/bandi/{CODE}/statistiche")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>"), "no script of its own");
    for id in crate::pages::statistics::TABLES {
        let chart = svg(&html, id);
        assert!(chart.contains("role=\"img\""), "{id}");
        assert!(chart.contains(&format!("aria-labelledby=\"chart-{id}-title chart-{id}-desc\"")));
        assert!(chart.contains(&format!("<title id=\"chart-{id}-title\">")), "{id}");
        assert!(chart.contains(&format!("<desc id=\"chart-{id}-desc\">")), "{id}");
        assert!(!chart.contains("style="), "{id}: the CSP forbids inline styles");
        assert!(html.contains(&format!("href=\"/bandi/{CODE}/statistiche/{id}.csv\"")), "{id}");
        assert!(html.contains(&format!("id=\"table-{id}\"")), "{id}");
    }
    assert_eq!(html.matches("<caption>").count(), 6);
    // The catalogue's share: Cervia's and the Distretto's 100 desktop-months each (Bologna's
    // grant is revoked), 4.400 € of the 125.000 € their projects cost.
    assert_eq!(
        cells(&table(&html, "servizi-del-catalogo")),
        [
            ["Postazione virtuale (LEP-VDI)", "2", "200", "4.400,00 €"],
            ["Totale", "2", "200", "4.400,00 €"],
        ]
    );
    assert!(html.contains("4.400,00 € su 125.000,00 € del loro costo, 3,5%"));

    // Four applications, all in the minutes after the opening.
    let minutes = table(&html, "domande-per-minuto");
    let total: i64 = minutes.iter().map(|r| r[1].parse::<i64>().unwrap()).sum();
    assert_eq!(total, 4);
    assert_eq!(minutes.last().unwrap()[2], "4");
    assert!(svg(&html, "domande-per-minuto").contains(&format!(": {}.", minutes[minutes.len() - 1][1])));

    // The money as it stands: Bologna's revoked grant counts nowhere.
    assert_eq!(
        cells(&table(&html, "contributi-per-provincia")),
        [["RA", "2", "70.000,00 €"]]
    );
    assert_eq!(
        cells(&table(&html, "contributi-per-tipo-di-ente")),
        [["Comune", "1", "35.000,00 €"], ["Unione di Comuni", "1", "35.000,00 €"]]
    );
    assert_eq!(
        cells(&table(&html, "percorso-delle-risorse")),
        [
            ["Richiesto dalle domande", "262.500,00 €", "4"],
            ["Concesso", "192.500,00 €", "3"],
            ["Confermato dalla verifica", "91.000,00 €", "2"],
            ["Erogato", "91.000,00 €", "2"],
            ["Revocato", "105.000,00 €", "1"],
            ["Da recuperare", "56.000,00 €", "1"],
        ]
    );
    let path_chart = svg(&html, "percorso-delle-risorse");
    assert!(path_chart.contains("Richiesto dalle domande: 262.500,00 €."));
    assert!(path_chart.contains(">56.000,00 €</text>"));
    // Indicators: promised by Cervia and the Distretto (90 each), achieved by Cervia (85).
    let indicators = table(&html, "indicatori");
    let target = indicators
        .iter()
        .find(|r| r[0] == "Lavoratori agili previsti a fine progetto")
        .unwrap();
    assert_eq!(target[1..], ["180", "2", "85", "1"]);
    // (The apostrophe is escaped in the page.)
    let staff = indicators.iter().find(|r| r[0].starts_with("Dipendenti dell")).unwrap();
    assert_eq!(staff[1..], ["360", "2", "0", "0"]);
    assert!(svg(&html, "indicatori").contains("Previsto 180, Raggiunto 85."));

    // Each table as CSV: the same numbers, Italian decimals.
    let (headers, rows) = read_csv(
        &get(&app, &format!("/bandi/{CODE}/statistiche/percorso-delle-risorse.csv"))
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(headers, ["Fase", "Importo", "Domande o contributi"]);
    assert_eq!(rows[0], ["Richiesto dalle domande", "262500,00", "4"]);
    assert_eq!(rows[5], ["Da recuperare", "56000,00", "1"]);
    let (_, rows) = read_csv(
        &get(&app, &format!("/bandi/{CODE}/statistiche/contributi-per-provincia.csv"))
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(rows, [["RA", "2", "70000,00"]]);

    // English: the same numbers the English way; the CSV stays Italian.
    let en = get(&app, &format!("/bandi/{CODE}/statistiche?lang=en")).await.text().await.unwrap();
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("<h1>Statistics: "));
    assert_eq!(
        cells(&table(&en, "percorso-delle-risorse"))[0],
        ["Requested by the applications", "€262,500.00", "4"]
    );

    // Bad inputs.
    for path in [
        format!("/bandi/{CODE}/statistiche/nessuna.csv"),
        format!("/bandi/{CODE}/statistiche/indicatori"),
        format!("/bandi/{CODE}/statistiche/indicatori.json"),
        "/bandi/nessuno/statistiche".to_string(),
        "/bandi/nessuno/statistiche/indicatori.csv".to_string(),
    ] {
        let res = get(&app, &path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(res.text().await.unwrap().contains("<html lang=\"it\">"), "{path}");
    }
    }
}

on_both_backends! {
    async fn impact_by_kind_and_province_with_charts_and_csv(db: TestDb) {
    let app = seeded(db).await;
    let res = get(&app, &format!("/impatto?bando={CODE}&indicatore=agile_workers_target")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    for id in crate::pages::statistics::impact::IMPACT_TABLES {
        let chart = svg(&html, id);
        assert!(chart.contains("role=\"img\"") && !chart.contains("style="), "{id}");
        assert!(
            html.contains(&format!("href=\"/impatto/{id}.csv?bando={CODE}&#38;indicatore=agile_workers_target\"")),
            "{id}"
        );
    }
    // Cervia (a comune) and the Distretto (a union), both in RA, promised 90 agile workers
    // each; Cervia's report says 85; Bologna's revoked grant counts nowhere.
    let all = table(&html, "indicatori");
    let target = all.iter().find(|r| r[0] == "Lavoratori agili previsti a fine progetto").unwrap();
    assert_eq!(target[1..], ["180", "2", "85", "1"]);
    assert_eq!(
        cells(&table(&html, "per-tipo-di-ente")),
        [["Comune", "90", "1", "85", "1"], ["Unione di Comuni", "90", "1", "0", "0"]]
    );
    assert_eq!(cells(&table(&html, "per-provincia")), [["RA", "180", "2", "85", "1"]]);
    assert!(svg(&html, "per-tipo-di-ente").contains("Previsto 90, Raggiunto 85."));
    let (headers, rows) = read_csv(
        &get(&app, &format!("/impatto/per-provincia.csv?bando={CODE}&indicatore=agile_workers_target"))
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(headers, ["Provincia", "Previsto", "Progetti", "Raggiunto", "Rendiconti"]);
    assert_eq!(rows, [["RA", "180", "2", "85", "1"]]);

    // Across calls (there is one) and with a query that names nothing: the same numbers,
    // the first indicator chosen, nothing of the query echoed.
    let html = get(&app, "/impatto?bando=%3Cscript%3E&indicatore=%3Cscript%3Ealert(1)")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert"));
    assert_eq!(cells(&table(&html, "per-provincia")), [["RA", "360", "2", "0", "0"]]);
    assert!(html.contains("tutti i bandi"));
    for path in ["/impatto/nessuna.csv", "/impatto/indicatori", "/impatto/indicatori.json"] {
        let res = get(&app, path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The call's statistics link here.
    let stats = get(&app, &format!("/bandi/{CODE}/statistiche")).await.text().await.unwrap();
    assert!(stats.contains(&format!("href=\"/impatto?bando={CODE}\"")));
    }
}

on_both_backends! {
    async fn funded_projects_are_found_with_the_practices(db: TestDb) {
    let app = seeded(db).await;
    let found = |html: &str| -> Vec<String> {
        let Some(start) = html.find("id=\"found-projects\"") else {
            return Vec::new();
        };
        let list = &html[start..html[start..].find("</ul>").unwrap() + start];
        list.match_indices("Lavoro agile ")
            .map(|(i, _)| list[i..].split('<').next().unwrap().trim().to_string())
            .collect()
    };
    // «formativi» finds «Formazione»; Bologna's revoked grant is no funded project.
    let html = get(&app, "/pratiche?q=formativi").await.text().await.unwrap();
    let mut titles = found(&html);
    titles.sort();
    assert_eq!(titles, ["Lavoro agile 039007", "Lavoro agile ucdc"], "{html}");
    let html = get(&app, "/pratiche?q=formazione&tipo=unione").await.text().await.unwrap();
    assert_eq!(found(&html), ["Lavoro agile ucdc"]);
    let html = get(&app, "/pratiche?q=formazione&provincia=BO").await.text().await.unwrap();
    assert!(found(&html).is_empty() && html.contains("id=\"no-projects\""));
    let html = get(&app, "/pratiche?q=ragioneria").await.text().await.unwrap();
    assert!(found(&html).is_empty());
    }
}
