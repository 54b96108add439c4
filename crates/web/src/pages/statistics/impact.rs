//! The impact of the calls (`/impatto`), public: the integer indicators that funded
//! projects promised in their applications and achieved in their reports, summed for one
//! call or across calls (an indicator is the same across calls when its code is), and one
//! indicator by kind of body and by province. Each table has its chart and its CSV
//! (`/impatto/{table}.csv` with the same query), as the statistics of a call.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::memo::Memo;

use bandi_domain::application::IndicatorValue;
use bandi_domain::call::IndicatorKind;
use bandi_domain::i18n::Locale;
use bandi_store::{Indicators, Store};

use super::Section;
use super::tables::{Cell, Table};
use crate::ApiError;
use crate::opendata::{self, CallGrants};
use crate::pages::charts::{Bar, BarChart};
use crate::pages::{Crumb, Ctx, Layout, Nav, PageState, encode, render};

/// The tables of the page, in order: their CSV names and anchors.
pub const IMPACT_TABLES: [&str; 3] = ["indicatori", "per-tipo-di-ente", "per-provincia"];

/// `?bando=CODE&indicatore=CODE`, both optional; a value that names nothing is ignored.
#[derive(Debug, Default)]
pub struct ImpactQuery {
    bando: String,
    indicatore: String,
}

impl ImpactQuery {
    fn of(ctx: &Ctx) -> ImpactQuery {
        let param = |k: &str| ctx.param(k).unwrap_or("").trim().chars().take(64).collect();
        ImpactQuery {
            bando: param("bando"),
            indicatore: param("indicatore"),
        }
    }
}

/// One funded project's promise and result: its group and its indicators.
struct Project {
    kind: String,
    province: String,
    promised: Indicators,
    achieved: Option<Indicators>,
}

/// An indicator across the calls read: code and label (the first call's that has it).
struct IndicatorName {
    code: String,
    label: String,
}

/// Everything the page shows, read at once.
struct Impact {
    calls: Vec<(String, String)>,
    chosen_call: Option<String>,
    indicators: Vec<IndicatorName>,
    chosen: Option<usize>,
    projects: Vec<Project>,
}

fn t(locale: Locale, it: &'static str, en: &'static str) -> &'static str {
    if locale == Locale::En { en } else { it }
}

fn value(ind: &Indicators, code: &str) -> Option<i64> {
    match ind.get(code) {
        Some(IndicatorValue::Integer(n)) => Some(*n),
        _ => None,
    }
}

/// Promised and achieved sums of `code` over `projects`, with how many gave each.
fn totals<'a>(projects: impl Iterator<Item = &'a Project>, code: &str) -> [i64; 4] {
    projects.fold([0; 4], |[p, pn, a, an], x| {
        let (p, pn) = match value(&x.promised, code) {
            Some(v) => (p.saturating_add(v), pn + 1),
            None => (p, pn),
        };
        let (a, an) = match x.achieved.as_ref().and_then(|i| value(i, code)) {
            Some(v) => (a.saturating_add(v), an + 1),
            None => (a, an),
        };
        [p, pn, a, an]
    })
}

/// A call as the page reads it: its grants, the funded applications' contents, the
/// indicators their reports achieved.
pub(crate) struct CallData {
    grants: CallGrants,
    promised: BTreeMap<u64, Indicators>,
    achieved: BTreeMap<u64, Indicators>,
}

/// Every call's data, kept in a [`Memo`] (what the page shows may be 15 s old).
pub(crate) type ImpactMemo = Memo<Vec<CallData>>;

async fn load_calls(store: &Store) -> Result<Vec<CallData>, ApiError> {
    let mut calls = Vec::new();
    for grants in opendata::all(store).await? {
        let code = grants.code().to_string();
        calls.push(CallData {
            promised: store
                .admitted_contents(&code)
                .await?
                .into_iter()
                .map(|(seq, c)| (seq, c.indicators))
                .collect(),
            achieved: store
                .achieved_indicators(&code)
                .await?
                .into_iter()
                .collect(),
            grants,
        });
    }
    Ok(calls)
}

async fn load(s: &PageState, q: &ImpactQuery, locale: Locale) -> Result<Impact, ApiError> {
    let store = s.app.store();
    let data = s.app.impact.get(|| load_calls(store)).await?;
    let all: Vec<&CallGrants> = data.iter().map(|c| &c.grants).collect();
    let calls: Vec<(String, String)> = all
        .iter()
        .map(|c| (c.code().to_string(), c.call().title.get(locale).to_string()))
        .collect();
    let chosen_call = calls
        .iter()
        .find(|(code, _)| *code == q.bando)
        .map(|(code, _)| code.clone());
    let read = data.iter().filter(|c| {
        chosen_call
            .as_deref()
            .is_none_or(|code| c.grants.code() == code)
    });
    let mut indicators: Vec<IndicatorName> = Vec::new();
    let mut projects = Vec::new();
    for d in read {
        let c = &d.grants;
        for ind in c.call().indicators.iter() {
            if ind.kind == IndicatorKind::Integer && !indicators.iter().any(|i| i.code == ind.code)
            {
                indicators.push(IndicatorName {
                    code: ind.code.clone(),
                    label: ind.label.get(locale).to_string(),
                });
            }
        }
        let (promised, achieved) = (&d.promised, &d.achieved);
        for g in c.grants.iter().filter(|g| g.revocation.is_none()) {
            let Some(indicators) = promised.get(&g.row.seq) else {
                continue;
            };
            projects.push(Project {
                kind: g.kind_label(locale),
                province: g
                    .row
                    .province
                    .clone()
                    .unwrap_or_else(|| t(locale, "non indicata", "not given").into()),
                promised: indicators.clone(),
                achieved: achieved.get(&g.row.seq).cloned(),
            });
        }
    }
    let chosen = indicators
        .iter()
        .position(|i| i.code == q.indicatore)
        .or((!indicators.is_empty()).then_some(0));
    Ok(Impact {
        calls,
        chosen_call,
        indicators,
        chosen,
        projects,
    })
}

fn headers(first: &str, locale: Locale) -> Vec<String> {
    vec![
        first.to_string(),
        t(locale, "Previsto", "Promised").into(),
        t(locale, "Progetti", "Projects").into(),
        t(locale, "Raggiunto", "Achieved").into(),
        t(locale, "Rendiconti", "Reports").into(),
    ]
}

/// A table of rows `(label, [promised, projects, achieved, reports])` and its two-series
/// chart.
fn table(
    id: &'static str,
    title: String,
    caption: String,
    first: &str,
    rows: Vec<(String, [i64; 4])>,
    empty: &str,
    locale: Locale,
) -> Table {
    let (promised, achieved) = (
        t(locale, "Previsto", "Promised"),
        t(locale, "Raggiunto", "Achieved"),
    );
    Table {
        id,
        chart: BarChart {
            id: format!("chart-{id}"),
            title: title.clone(),
            summary: t(
                locale,
                "Per ogni riga, il valore previsto e quello raggiunto.",
                "For each row, the value promised and the value achieved.",
            )
            .into(),
            series: vec![promised.into(), achieved.into()],
            bars: rows
                .iter()
                .map(|(label, v)| Bar {
                    label: label.clone(),
                    values: vec![v[0], v[2]],
                    shown: vec![v[0].to_string(), v[2].to_string()],
                })
                .collect(),
        },
        title,
        caption,
        headers: headers(first, locale),
        rows: rows
            .into_iter()
            .map(|(label, v)| {
                let mut r = vec![Cell::label(label)];
                r.extend(v.into_iter().map(Cell::count));
                r
            })
            .collect(),
        empty: empty.to_string(),
    }
}

fn tables(i: &Impact, locale: Locale) -> Vec<Table> {
    let scope = match &i.chosen_call {
        Some(code) => i
            .calls
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, title)| title.clone())
            .unwrap_or_default(),
        None => t(locale, "tutti i bandi", "every call").into(),
    };
    let no_projects = t(
        locale,
        "Nessun progetto finanziato con indicatori numerici.",
        "No funded project with numeric indicators.",
    );
    let mut out = vec![table(
        IMPACT_TABLES[0],
        t(
            locale,
            "Indicatori previsti e raggiunti",
            "Indicators promised and achieved",
        )
        .into(),
        format!(
            "{}: {scope}",
            t(
                locale,
                "Somme sui progetti finanziati (previsto dalle domande, raggiunto dai rendiconti presentati)",
                "Sums over the funded projects (promised in the applications, achieved in the reports submitted)"
            )
        ),
        t(locale, "Indicatore", "Indicator"),
        i.indicators
            .iter()
            .map(|ind| (ind.label.clone(), totals(i.projects.iter(), &ind.code)))
            .filter(|(_, v)| v[1] > 0 || v[3] > 0)
            .collect(),
        no_projects,
        locale,
    )];
    let Some(chosen) = i.chosen.map(|c| &i.indicators[c]) else {
        return out;
    };
    for (id, by_kind) in [(IMPACT_TABLES[1], true), (IMPACT_TABLES[2], false)] {
        let mut groups: BTreeMap<&str, Vec<&Project>> = BTreeMap::new();
        for p in &i.projects {
            let key = if by_kind { &p.kind } else { &p.province };
            groups.entry(key.as_str()).or_default().push(p);
        }
        let mut rows: Vec<(String, [i64; 4])> = groups
            .into_iter()
            .map(|(k, ps)| (k.to_string(), totals(ps.into_iter(), &chosen.code)))
            .filter(|(_, v)| v[1] > 0 || v[3] > 0)
            .collect();
        rows.sort_by(|a, b| b.1[0].cmp(&a.1[0]).then(a.0.cmp(&b.0)));
        let (title, first) = match by_kind {
            true => (
                t(locale, "per tipo di ente", "by kind of body"),
                t(locale, "Tipo di ente", "Kind of body"),
            ),
            false => (
                t(locale, "per provincia", "by province"),
                t(locale, "Provincia", "Province"),
            ),
        };
        out.push(table(
            id,
            format!("{} {title}", chosen.label),
            format!(
                "{} {title}: {scope}; {}",
                chosen.label,
                t(
                    locale,
                    "previsto dalle domande dei progetti finanziati, raggiunto dai rendiconti presentati",
                    "promised in the funded projects' applications, achieved in the reports submitted"
                )
            ),
            first,
            rows,
            no_projects,
            locale,
        ));
    }
    out
}

/// A choice of a `<select>`.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "impact.html")]
struct ImpactPage {
    l: Layout,
    calls: Vec<Choice>,
    indicators: Vec<Choice>,
    projects: usize,
    reports: usize,
    sections: Vec<Section>,
}

fn query_string(i: &Impact) -> String {
    let mut q = Vec::new();
    if let Some(c) = &i.chosen_call {
        q.push(format!("bando={}", encode(c)));
    }
    if let Some(ind) = i.chosen.map(|c| &i.indicators[c]) {
        q.push(format!("indicatore={}", encode(&ind.code)));
    }
    match q.is_empty() {
        true => String::new(),
        false => format!("?{}", q.join("&")),
    }
}

/// `/impatto`.
pub async fn show(State(s): State<PageState>, ctx: Ctx) -> Result<Response, ApiError> {
    let q = ImpactQuery::of(&ctx);
    let locale = ctx.locale;
    let impact = load(&s, &q, locale).await?;
    let qs = query_string(&impact);
    let page = ImpactPage {
        l: ctx.layout(
            ctx.t("Impatto dei bandi", "Impact of the calls"),
            vec![Crumb::new(ctx.ui().home, "/")],
            Nav::Practices,
        ),
        calls: impact
            .calls
            .iter()
            .map(|(code, title)| Choice {
                chosen: impact.chosen_call.as_deref() == Some(code),
                value: code.clone(),
                label: title.clone(),
            })
            .collect(),
        indicators: impact
            .indicators
            .iter()
            .enumerate()
            .map(|(n, ind)| Choice {
                chosen: impact.chosen == Some(n),
                value: ind.code.clone(),
                label: ind.label.clone(),
            })
            .collect(),
        projects: impact.projects.len(),
        reports: impact
            .projects
            .iter()
            .filter(|p| p.achieved.is_some())
            .count(),
        sections: tables(&impact, locale)
            .into_iter()
            .map(|t| {
                let csv = format!("/impatto/{}.csv{qs}", t.id);
                Section::of(t, csv)
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

/// `/impatto/{table}.csv`: a table of the page with the same query, headers in Italian.
pub async fn table_csv(
    State(s): State<PageState>,
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(file)) = path else {
        return Err(ApiError::not_found());
    };
    let name = file
        .strip_suffix(".csv")
        .filter(|n| IMPACT_TABLES.contains(n))
        .ok_or_else(ApiError::not_found)?
        .to_string();
    let impact = load(&s, &ImpactQuery::of(&ctx), Locale::It).await?;
    let table = tables(&impact, Locale::It)
        .into_iter()
        .find(|t| t.id == name)
        .ok_or_else(ApiError::not_found)?;
    let scope = impact.chosen_call.as_deref().unwrap_or("tutti-i-bandi");
    super::csv_download(table, &format!("impatto-{name}-{scope}.csv"))
}
