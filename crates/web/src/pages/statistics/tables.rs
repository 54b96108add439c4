//! The statistics' tables, each with its chart: computed from the store at every request,
//! in the page's language for the page and in Italian for the CSV (whose cells are the same
//! in both: counts, and amounts as `52500,00`).

use std::collections::{BTreeMap, BTreeSet};

use bandi_domain::application::{ApplicationContent, IndicatorValue};
use bandi_domain::call::{Call, IndicatorKind};
use bandi_domain::i18n::Locale;
use bandi_domain::money::Money;
use bandi_domain::service::Service;
use bandi_store::{Indicators, RankingRow};
use jiff::Timestamp;

use crate::opendata::{CallGrants, sheet};
use crate::pages::charts::{Bar, BarChart};

/// One-minute bars of the click day; later applications share one last bar.
pub const MINUTES: i64 = 30;

/// A cell: as the page shows it, and as the CSV holds it.
pub(crate) struct Cell {
    pub text: String,
    pub csv: String,
    pub numeric: bool,
}

impl Cell {
    pub(crate) fn label(s: impl Into<String>) -> Cell {
        let s = s.into();
        Cell {
            csv: sheet::inert(&s),
            text: s,
            numeric: false,
        }
    }

    pub(crate) fn count(n: i64) -> Cell {
        Cell {
            text: n.to_string(),
            csv: n.to_string(),
            numeric: true,
        }
    }

    fn money(m: Money, locale: Locale) -> Cell {
        Cell {
            text: m.in_locale(locale),
            csv: sheet::decimal(m),
            numeric: true,
        }
    }
}

/// A table of the page, its chart and its CSV.
pub(crate) struct Table {
    /// The CSV's name (`/bandi/{code}/statistiche/{id}.csv`) and the page's anchor.
    pub id: &'static str,
    pub title: String,
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// When there is nothing to draw.
    pub empty: String,
    pub chart: BarChart,
}

/// The names of the tables, in the page's order.
pub const TABLES: [&str; 6] = [
    "domande-per-minuto",
    "contributi-per-provincia",
    "contributi-per-tipo-di-ente",
    "percorso-delle-risorse",
    "indicatori",
    "servizi-del-catalogo",
];

/// What the tables are computed from.
pub(crate) struct Inputs<'a> {
    pub grants: &'a CallGrants,
    pub admissions: &'a [Timestamp],
    pub ranking: &'a [RankingRow],
    pub promised: &'a [(u64, Indicators)],
    pub achieved: &'a [(u64, Indicators)],
    /// The funded applications' contents, as sent.
    pub contents: &'a [(u64, ApplicationContent)],
    /// Every service ever in the catalogue, to name those of the lines.
    pub services: &'a [Service],
}

fn t(locale: Locale, it: &'static str, en: &'static str) -> &'static str {
    if locale == Locale::En { en } else { it }
}

fn add(a: Money, b: Money) -> Money {
    a.checked_add(b).unwrap_or(a)
}

/// Every table, in order.
pub(crate) fn all(i: &Inputs<'_>, locale: Locale) -> Vec<Table> {
    vec![
        per_minute(i.grants.call(), i.admissions, locale),
        by_group(i.grants, locale, Group::Province),
        by_group(i.grants, locale, Group::Kind),
        money_path(i, locale),
        indicators(i, locale),
        catalogue_services(i, locale),
    ]
}

/// Applications per minute from the opening (in the call's time zone).
fn per_minute(call: &Call, admissions: &[Timestamp], locale: Locale) -> Table {
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    for a in admissions {
        let minute = (a.as_second() - call.opens_at.as_second()).max(0) / 60;
        *counts.entry(minute.min(MINUTES)).or_default() += 1;
    }
    let last = counts.keys().next_back().copied();
    let minute_label = |m: i64| {
        let start = call.opens_at + jiff::SignedDuration::from_mins(m);
        start
            .to_zoned_datetime(call.tz())
            .strftime("%H:%M")
            .to_string()
    };
    let mut rows = Vec::new();
    let mut bars = Vec::new();
    let mut cumulative = 0;
    if let Some(last) = last {
        for m in 0..=last {
            let n = counts.get(&m).copied().unwrap_or(0);
            cumulative += n;
            let label = if m == MINUTES {
                format!("{} {}", t(locale, "dalle", "from"), minute_label(m))
            } else {
                minute_label(m)
            };
            bars.push(Bar {
                label: label.clone(),
                values: vec![n],
                shown: vec![n.to_string()],
            });
            rows.push(vec![
                Cell::label(label),
                Cell::count(n),
                Cell::count(cumulative),
            ]);
        }
    }
    let title = t(locale, "Domande per minuto", "Applications per minute").to_string();
    Table {
        id: TABLES[0],
        title: title.clone(),
        caption: format!(
            "{} ({}, {} {})",
            t(
                locale,
                "Domande ricevute in ciascun minuto dall'apertura",
                "Applications received in each minute from the opening"
            ),
            crate::pages::i18n::zone_name(&call.time_zone, locale),
            t(locale, "in totale", "in all"),
            admissions.len()
        ),
        headers: vec![
            t(locale, "Minuto", "Minute").into(),
            t(locale, "Domande", "Applications").into(),
            t(locale, "Domande in totale", "Applications so far").into(),
        ],
        rows,
        empty: t(
            locale,
            "Nessuna domanda ricevuta.",
            "No application received.",
        )
        .into(),
        chart: BarChart {
            id: format!("chart-{}", TABLES[0]),
            summary: format!(
                "{} {}.",
                t(
                    locale,
                    "Domande ricevute minuto per minuto dall'apertura del",
                    "Applications received minute by minute from the opening on"
                ),
                call.local_time(call.opens_at)
            ),
            title,
            series: vec![t(locale, "Domande", "Applications").into()],
            bars,
        },
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Province,
    Kind,
}

/// The money funding each province, or each kind of entity: the grants as they stand (the
/// final grant once verified, nothing once revoked).
fn by_group(grants: &CallGrants, locale: Locale, group: Group) -> Table {
    let mut sums: BTreeMap<String, (i64, Money)> = BTreeMap::new();
    for g in grants.grants.iter().filter(|g| g.funded().is_positive()) {
        let key = match group {
            Group::Province => g
                .row
                .province
                .clone()
                .unwrap_or_else(|| t(locale, "non indicata", "not given").into()),
            Group::Kind => g.kind_label(locale),
        };
        let e = sums.entry(key).or_insert((0, Money::ZERO));
        e.0 += 1;
        e.1 = add(e.1, g.funded());
    }
    let mut groups: Vec<(String, (i64, Money))> = sums.into_iter().collect();
    groups.sort_by(|a, b| b.1.1.cents().cmp(&a.1.1.cents()).then(a.0.cmp(&b.0)));
    let (id, title, first) = match group {
        Group::Province => (
            TABLES[1],
            t(locale, "Contributi per provincia", "Grants by province"),
            t(locale, "Provincia", "Province"),
        ),
        Group::Kind => (
            TABLES[2],
            t(
                locale,
                "Contributi per tipo di ente",
                "Grants by kind of body",
            ),
            t(locale, "Tipo di ente", "Kind of body"),
        ),
    };
    Table {
        id,
        title: title.into(),
        caption: format!(
            "{}: {}",
            title,
            t(
                locale,
                "numero di contributi e importo (il contributo definitivo dopo la verifica del rendiconto; i contributi revocati non sono contati)",
                "number of grants and amount (the final grant after the report's verification; revoked grants are not counted)"
            )
        ),
        headers: vec![
            first.into(),
            t(locale, "Contributi", "Grants").into(),
            t(locale, "Importo", "Amount").into(),
        ],
        rows: groups
            .iter()
            .map(|(k, (n, m))| {
                vec![
                    Cell::label(k.clone()),
                    Cell::count(*n),
                    Cell::money(*m, locale),
                ]
            })
            .collect(),
        empty: t(locale, "Nessun contributo concesso.", "No grant awarded.").into(),
        chart: BarChart {
            id: format!("chart-{id}"),
            title: title.into(),
            summary: format!(
                "{}.",
                t(
                    locale,
                    "Importo dei contributi per gruppo, dal maggiore",
                    "Amount of the grants by group, largest first"
                )
            ),
            series: vec![t(locale, "Importo", "Amount").into()],
            bars: groups
                .iter()
                .map(|(k, (_, m))| Bar {
                    label: k.clone(),
                    values: vec![m.cents()],
                    shown: vec![m.in_locale(locale)],
                })
                .collect(),
        },
    }
}

/// The money's path: asked by every application, awarded, confirmed by the verification,
/// paid, revoked and to be recovered.
fn money_path(i: &Inputs<'_>, locale: Locale) -> Table {
    let grants = &i.grants.grants;
    let totals = i.grants.totals();
    let requested = i
        .ranking
        .iter()
        .fold(Money::ZERO, |a, r| add(a, r.requested_cents));
    let steps: [(&str, &str, Money, i64); 6] = [
        (
            "Richiesto dalle domande",
            "Requested by the applications",
            requested,
            i.ranking.len() as i64,
        ),
        ("Concesso", "Awarded", totals.awarded, grants.len() as i64),
        (
            "Confermato dalla verifica",
            "Confirmed by the verification",
            totals.final_grant,
            grants.iter().filter(|g| g.final_grant().is_some()).count() as i64,
        ),
        (
            "Erogato",
            "Paid",
            totals.paid,
            grants.iter().filter(|g| g.row.paid.is_positive()).count() as i64,
        ),
        (
            "Revocato",
            "Revoked",
            totals.revoked,
            grants.iter().filter(|g| g.revocation.is_some()).count() as i64,
        ),
        (
            "Da recuperare",
            "To recover",
            totals.to_recover,
            grants
                .iter()
                .filter(|g| {
                    g.revocation
                        .as_ref()
                        .is_some_and(|r| r.to_recover.is_positive())
                })
                .count() as i64,
        ),
    ];
    let title = t(locale, "Il percorso delle risorse", "The path of the money");
    Table {
        id: TABLES[3],
        title: title.into(),
        caption: format!(
            "{}: {}",
            title,
            t(
                locale,
                "importi e numero di domande o contributi in ciascuna fase",
                "amounts and number of applications or grants at each step"
            )
        ),
        headers: vec![
            t(locale, "Fase", "Step").into(),
            t(locale, "Importo", "Amount").into(),
            t(locale, "Domande o contributi", "Applications or grants").into(),
        ],
        rows: steps
            .iter()
            .map(|(it, en, m, n)| {
                vec![
                    Cell::label(t(locale, it, en)),
                    Cell::money(*m, locale),
                    Cell::count(*n),
                ]
            })
            .collect(),
        empty: String::new(),
        chart: BarChart {
            id: format!("chart-{}", TABLES[3]),
            title: title.into(),
            summary: t(
                locale,
                "Importi dalla richiesta all'erogazione e alle revoche.",
                "Amounts from the request to the payment and the revocations.",
            )
            .into(),
            series: vec![t(locale, "Importo", "Amount").into()],
            bars: steps
                .iter()
                .map(|(it, en, m, _)| Bar {
                    label: t(locale, it, en).into(),
                    values: vec![m.cents()],
                    shown: vec![m.in_locale(locale)],
                })
                .collect(),
        },
    }
}

/// An integer indicator's sum, and how many projects gave it.
type Total = (i64, i64);

/// The sum of an integer indicator over the projects of `seqs`, and how many gave it.
fn sum(list: &[(u64, Indicators)], seqs: &BTreeSet<u64>, code: &str) -> Total {
    list.iter()
        .filter(|(seq, _)| seqs.contains(seq))
        .filter_map(|(_, ind)| match ind.get(code) {
            Some(IndicatorValue::Integer(n)) => Some(*n),
            _ => None,
        })
        .fold((0, 0), |(s, n), v| (s.saturating_add(v), n + 1))
}

/// The call's integer indicators: promised by the funded projects' applications, achieved
/// according to their submitted reports (revoked grants left out).
fn indicators(i: &Inputs<'_>, locale: Locale) -> Table {
    let call = i.grants.call();
    let seqs: BTreeSet<u64> = i
        .grants
        .grants
        .iter()
        .filter(|g| g.revocation.is_none())
        .map(|g| g.row.seq)
        .collect();
    let lines: Vec<(String, Total, Total)> = call
        .indicators
        .iter()
        .filter(|ind| ind.kind == IndicatorKind::Integer)
        .map(|ind| {
            (
                ind.label.get(locale).to_string(),
                sum(i.promised, &seqs, &ind.code),
                sum(i.achieved, &seqs, &ind.code),
            )
        })
        .collect();
    let title = t(
        locale,
        "Indicatori previsti e raggiunti",
        "Indicators promised and achieved",
    );
    let (promised, achieved) = (
        t(locale, "Previsto", "Promised"),
        t(locale, "Raggiunto", "Achieved"),
    );
    Table {
        id: TABLES[4],
        title: title.into(),
        caption: format!(
            "{}: {}",
            title,
            t(
                locale,
                "somme sui progetti finanziati; previsto dalle domande, raggiunto dai rendiconti presentati",
                "sums over the funded projects; promised in the applications, achieved in the reports submitted"
            )
        ),
        headers: vec![
            t(locale, "Indicatore", "Indicator").into(),
            promised.into(),
            t(locale, "Progetti", "Projects").into(),
            achieved.into(),
            t(locale, "Rendiconti", "Reports").into(),
        ],
        rows: lines
            .iter()
            .map(|(label, (p, pn), (a, an))| {
                vec![
                    Cell::label(label.clone()),
                    Cell::count(*p),
                    Cell::count(*pn),
                    Cell::count(*a),
                    Cell::count(*an),
                ]
            })
            .collect(),
        empty: t(
            locale,
            "Il bando non prevede indicatori numerici.",
            "The call has no numeric indicators.",
        )
        .into(),
        chart: BarChart {
            id: format!("chart-{}", TABLES[4]),
            title: title.into(),
            summary: t(
                locale,
                "Per ogni indicatore, il valore previsto e quello raggiunto.",
                "For each indicator, the value promised and the value achieved.",
            )
            .into(),
            series: vec![promised.into(), achieved.into()],
            bars: lines
                .iter()
                .map(|(label, (p, _), (a, _))| Bar {
                    label: label.clone(),
                    values: vec![*p, *a],
                    shown: vec![p.to_string(), a.to_string()],
                })
                .collect(),
        },
    }
}

/// How much of the funded projects' cost buys services of the catalogue: by service, the
/// projects, the units and the amount as the applications priced them (revoked grants left
/// out), and the share of the projects' whole cost.
fn catalogue_services(i: &Inputs<'_>, locale: Locale) -> Table {
    let funded: BTreeSet<u64> = i
        .grants
        .grants
        .iter()
        .filter(|g| g.revocation.is_none())
        .map(|g| g.row.seq)
        .collect();
    let mut by_code: BTreeMap<String, (i64, i64, Money)> = BTreeMap::new();
    let mut whole = Money::ZERO;
    for (_, content) in i.contents.iter().filter(|(seq, _)| funded.contains(seq)) {
        let mut seen = Vec::new();
        for line in &content.lines {
            whole = add(whole, line.amount_cents);
            let Some(s) = &line.service else { continue };
            let e = by_code.entry(s.code.clone()).or_insert((0, 0, Money::ZERO));
            if !seen.contains(&s.code) {
                e.0 += 1;
                seen.push(s.code.clone());
            }
            e.1 = e.1.saturating_add(i64::from(s.quantity));
            e.2 = add(e.2, line.amount_cents);
        }
    }
    let name = |code: &str| {
        i.services
            .iter()
            .find(|s| s.code == code)
            .map(|s| format!("{} ({code})", s.name.get(locale)))
            .unwrap_or_else(|| code.to_string())
    };
    let mut rows: Vec<(String, (i64, i64, Money))> = by_code
        .into_iter()
        .map(|(code, v)| (name(&code), v))
        .collect();
    rows.sort_by(|a, b| b.1.2.cents().cmp(&a.1.2.cents()).then(a.0.cmp(&b.0)));
    let total = rows.iter().fold(Money::ZERO, |a, r| add(a, r.1.2));
    // Per mille in integers, shown with one decimal the Italian way.
    let share = match whole.cents() {
        0 => "0".to_string(),
        w => {
            let pm = i128::from(total.cents()) * 1000 / i128::from(w);
            format!("{},{}", pm / 10, pm % 10)
        }
    };
    let title = t(
        locale,
        "Servizi del catalogo regionale",
        "Services of the regional catalogue",
    );
    let mut cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|(label, (projects, units, amount))| {
            vec![
                Cell::label(label.clone()),
                Cell::count(*projects),
                Cell::count(*units),
                Cell::money(*amount, locale),
            ]
        })
        .collect();
    if !rows.is_empty() {
        cells.push(vec![
            Cell::label(t(locale, "Totale", "Total")),
            Cell::count(
                i.contents
                    .iter()
                    .filter(|(seq, c)| {
                        funded.contains(seq) && c.lines.iter().any(|l| l.service.is_some())
                    })
                    .count() as i64,
            ),
            Cell::count(rows.iter().map(|r| r.1.1).sum()),
            Cell::money(total, locale),
        ]);
    }
    Table {
        id: TABLES[5],
        title: title.into(),
        caption: match locale {
            Locale::En => format!(
                "{title}: projects, units and amount of the funded projects' lines that buy them ({} of {} of their cost, {share}%)",
                total.in_locale(locale),
                whole.in_locale(locale)
            ),
            Locale::It => format!(
                "{title}: progetti, unità e importo delle voci dei progetti finanziati che li acquistano ({} su {} del loro costo, {share}%)",
                total.in_locale(locale),
                whole.in_locale(locale)
            ),
        },
        headers: vec![
            t(locale, "Servizio", "Service").into(),
            t(locale, "Progetti", "Projects").into(),
            t(locale, "Unità", "Units").into(),
            t(locale, "Importo", "Amount").into(),
        ],
        rows: cells,
        empty: t(
            locale,
            "Nessun progetto finanziato acquista servizi del catalogo.",
            "No funded project buys services of the catalogue.",
        )
        .into(),
        chart: BarChart {
            id: format!("chart-{}", TABLES[5]),
            title: title.into(),
            summary: t(
                locale,
                "Importo delle voci per servizio del catalogo, dal maggiore.",
                "Amount of the lines by catalogue service, largest first.",
            )
            .into(),
            series: vec![t(locale, "Importo", "Amount").into()],
            bars: rows
                .iter()
                .map(|(label, (_, _, m))| Bar {
                    label: label.clone(),
                    values: vec![m.cents()],
                    shown: vec![m.in_locale(locale)],
                })
                .collect(),
        },
    }
}
