//! Importers of registry files: the ISTAT list of comuni and a plain CSV of other entities.
//!
//! They take the file's text rather than a path so that the domain stays free of I/O. An import
//! is all-or-nothing: if any row is bad, nothing is returned and every bad row is reported, so
//! the operator can fix the whole file in one go.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use csv::StringRecord;

use crate::entity::{Entity, EntityCode, EntityKind};

/// Header of the ISTAT list of comuni (`data/istat-comuni.csv`).
pub const ISTAT_HEADER: [&str; 11] = [
    "istat_code",
    "name",
    "region_code",
    "region",
    "supra_code",
    "supra_name",
    "supra_kind",
    "plate",
    "is_capital",
    "cadastral_code",
    "nuts3_2024",
];

/// Header of the plain CSV of other entities (unions, circondari, ...).
pub const ENTITIES_HEADER: [&str; 6] =
    ["code", "name", "kind", "fiscal_code", "province", "members"];

/// How many errors [`ImportErrors`]' `Display` lists before summarising the rest.
const MAX_SHOWN_ERRORS: usize = 20;

/// One problem in an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Every problem found in an import file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportErrors(pub Vec<RowError>);

impl ImportErrors {
    fn single(line: usize, message: impl Into<String>) -> Self {
        ImportErrors(vec![RowError {
            line,
            message: message.into(),
        }])
    }
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().take(MAX_SHOWN_ERRORS).enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        if self.0.len() > MAX_SHOWN_ERRORS {
            write!(f, "\n... and {} more", self.0.len() - MAX_SHOWN_ERRORS)?;
        }
        Ok(())
    }
}

/// The ISTAT list of Italian comuni (format of `data/istat-comuni.csv`, header [`ISTAT_HEADER`]).
///
/// Yields one [`Entity`] per comune (code = istat_code, kind Comune), in file order, followed by
/// one per province-level body found, sorted by code: kind Provincia for supra_kind
/// `provincia` ("Provincia di …"), CittaMetropolitana for `citta_metropolitana`
/// ("Città metropolitana di …"), Other for the remaining kinds (named as in the file).
///
/// `region`: when `Some("08")`, only rows of that region are returned, but rows of other regions
/// are still checked. A `region` that is not two digits is reported on the header line.
pub fn parse_istat_comuni(text: &str, region: Option<&str>) -> Result<Vec<Entity>, ImportErrors> {
    let rows = read_rows(text)?;
    let (header, body) = split_header(&rows, &[&ISTAT_HEADER])?;
    istat_from_rows(header, body, region)
}

/// A plain CSV of other entities, header exactly [`ENTITIES_HEADER`]: `province` is a two-letter
/// plate or empty, `fiscal_code` is empty or 11 digits, `kind` is [`EntityKind::as_str`],
/// `members` are 6-digit ISTAT codes separated by `;` (may be empty). `region` sets `region_code`
/// on every entity; if it is not two digits it is reported on the header line.
pub fn parse_entities_csv(text: &str, region: Option<&str>) -> Result<Vec<Entity>, ImportErrors> {
    let rows = read_rows(text)?;
    let (header, body) = split_header(&rows, &[&ENTITIES_HEADER])?;
    entities_from_rows(header, body, region)
}

/// Chooses the parser from the header line: the ISTAT header goes to [`parse_istat_comuni`], the
/// plain header to [`parse_entities_csv`]; anything else is an error on line 1 naming both.
pub fn parse_registry(text: &str, region: Option<&str>) -> Result<Vec<Entity>, ImportErrors> {
    let rows = read_rows(text)?;
    let (header, body) = split_header(&rows, &[&ISTAT_HEADER, &ENTITIES_HEADER])?;
    if matches_header(&header.record, &ISTAT_HEADER) {
        istat_from_rows(header, body, region)
    } else {
        entities_from_rows(header, body, region)
    }
}

/// A CSV record with the line it starts on.
struct Row {
    line: usize,
    record: StringRecord,
}

impl Row {
    fn field(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or("")
    }
}

fn read_rows(text: &str) -> Result<Vec<Row>, ImportErrors> {
    // Files saved by spreadsheet programs often start with a BOM, which would corrupt the first
    // header field. The csv reader skips one too, but that is not part of its documented API.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Headers and column counts are checked by hand so that every problem gets a line number
    // instead of the reader stopping at the first one.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = StringRecord::new();
    loop {
        let next_line = rows.last().map_or(1, |r: &Row| r.line + 1);
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(next_line, |p| to_usize(p.line()));
                rows.push(Row {
                    line,
                    record: record.clone(),
                });
            }
            // With `&str` input and `flexible` this should not happen (no I/O, valid UTF-8), but
            // the reader cannot resynchronise after an error, so stop here.
            Err(err) => {
                let line = err.position().map_or(next_line, |p| to_usize(p.line()));
                return Err(ImportErrors::single(line, format!("unreadable CSV: {err}")));
            }
        }
    }
    Ok(rows)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn matches_header(record: &StringRecord, expected: &[&str]) -> bool {
    record.len() == expected.len() && record.iter().zip(expected).all(|(a, b)| a == *b)
}

fn describe_headers(accepted: &[&[&str]]) -> String {
    accepted
        .iter()
        .map(|h| format!("`{}`", h.join(",")))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Splits off the header and checks it against the accepted ones. A wrong header stops the
/// import at once: the columns would not mean what we think, so row errors would be noise.
fn split_header<'a>(
    rows: &'a [Row],
    accepted: &[&[&str]],
) -> Result<(&'a Row, &'a [Row]), ImportErrors> {
    let Some((header, body)) = rows.split_first() else {
        return Err(ImportErrors::single(
            1,
            format!(
                "the file is empty; expected the header {}",
                describe_headers(accepted)
            ),
        ));
    };
    if accepted.iter().any(|h| matches_header(&header.record, h)) {
        return Ok((header, body));
    }
    let found = header.record.iter().collect::<Vec<_>>().join(",");
    Err(ImportErrors::single(
        header.line,
        format!(
            "unexpected header `{found}`; expected exactly {}",
            describe_headers(accepted)
        ),
    ))
}

fn is_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_plate(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Checks the `region` argument; a bad one is reported on the header line because it concerns
/// the whole import, and silently matching nothing would look like an empty region.
fn check_region(region: Option<&str>, header: &Row, errors: &mut Vec<RowError>) {
    if let Some(r) = region
        && !is_digits(r, 2)
    {
        errors.push(RowError {
            line: header.line,
            message: format!("region {r:?} is not a two-digit ISTAT region code"),
        });
    }
}

fn column_count_problem(row: &Row, expected: usize) -> Option<String> {
    (row.record.len() != expected)
        .then(|| format!("expected {expected} columns, found {}", row.record.len()))
}

/// What a province-level body looks like the first time its supra_code is seen; later rows must
/// agree, otherwise the body we build would depend on row order.
struct Supra {
    line: usize,
    name: String,
    kind: String,
    plate: String,
    region_code: String,
}

impl Supra {
    fn describe(&self) -> String {
        format!(
            "{:?} ({}, {}, region {})",
            self.name, self.kind, self.plate, self.region_code
        )
    }
}

fn supra_entity_kind(supra_kind: &str) -> Option<EntityKind> {
    match supra_kind {
        "provincia" => Some(EntityKind::Provincia),
        "citta_metropolitana" => Some(EntityKind::CittaMetropolitana),
        "provincia_autonoma" | "libero_consorzio" | "unita_non_amministrativa" => {
            Some(EntityKind::Other)
        }
        _ => None,
    }
}

fn istat_from_rows(
    header: &Row,
    rows: &[Row],
    region: Option<&str>,
) -> Result<Vec<Entity>, ImportErrors> {
    let mut errors = Vec::new();
    check_region(region, header, &mut errors);

    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut supras: HashMap<&str, Supra> = HashMap::new();
    let mut comuni = Vec::new();
    let mut bodies: BTreeMap<EntityCode, Entity> = BTreeMap::new();

    for row in rows {
        if let Some(problem) = column_count_problem(row, ISTAT_HEADER.len()) {
            errors.push(RowError {
                line: row.line,
                message: problem,
            });
            continue;
        }
        let mut problems = Vec::new();
        let istat_code = row.field(0);
        let name = row.field(1).trim();
        let region_code = row.field(2);
        let supra_code = row.field(4);
        let supra_name = row.field(5).trim();
        let supra_kind = row.field(6);
        let plate = row.field(7);

        let code = if is_digits(istat_code, 6) {
            match seen.get(istat_code) {
                Some(first) => problems.push(format!(
                    "duplicate istat_code {istat_code} (first on line {first})"
                )),
                None => {
                    seen.insert(istat_code, row.line);
                }
            }
            EntityCode::parse(istat_code).ok()
        } else {
            problems.push(format!("istat_code {istat_code:?} is not 6 digits"));
            None
        };
        if name.is_empty() {
            problems.push("name is empty".to_owned());
        }
        let region_ok = is_digits(region_code, 2);
        if !region_ok {
            problems.push(format!("region_code {region_code:?} is not 2 digits"));
        }
        let body_code = if is_digits(supra_code, 3) {
            EntityCode::parse(supra_code).ok()
        } else {
            problems.push(format!("supra_code {supra_code:?} is not 3 digits"));
            None
        };
        if supra_name.is_empty() {
            problems.push("supra_name is empty".to_owned());
        }
        let body_kind = supra_entity_kind(supra_kind);
        if body_kind.is_none() {
            problems.push(format!(
                "unknown supra_kind {supra_kind:?}; expected provincia, citta_metropolitana, \
                 provincia_autonoma, libero_consorzio or unita_non_amministrativa"
            ));
        }
        let plate_ok = is_plate(plate);
        if !plate_ok {
            problems.push(format!("plate {plate:?} is not 2 uppercase letters"));
        }

        // Only compare complete descriptions of the body, so one typo is not reported twice.
        if body_code.is_some()
            && !supra_name.is_empty()
            && body_kind.is_some()
            && plate_ok
            && region_ok
        {
            let here = Supra {
                line: row.line,
                name: supra_name.to_owned(),
                kind: supra_kind.to_owned(),
                plate: plate.to_owned(),
                region_code: region_code.to_owned(),
            };
            match supras.get(supra_code) {
                Some(first)
                    if (&first.name, &first.kind, &first.plate, &first.region_code)
                        != (&here.name, &here.kind, &here.plate, &here.region_code) =>
                {
                    problems.push(format!(
                        "supra_code {supra_code} is {} here but {} on line {}",
                        here.describe(),
                        first.describe(),
                        first.line
                    ));
                }
                Some(_) => {}
                None => {
                    supras.insert(supra_code, here);
                }
            }
        }

        if !problems.is_empty() {
            errors.push(RowError {
                line: row.line,
                message: problems.join("; "),
            });
            continue;
        }
        // Rows of other regions are checked above but not returned.
        if region.is_some_and(|r| r != region_code) {
            continue;
        }
        let (Some(code), Some(body_code), Some(body_kind)) = (code, body_code, body_kind) else {
            // Unreachable: each of these being None added a problem above.
            continue;
        };
        bodies.entry(body_code.clone()).or_insert_with(|| Entity {
            name: match body_kind {
                EntityKind::Provincia => format!("Provincia di {supra_name}"),
                EntityKind::CittaMetropolitana => format!("Città metropolitana di {supra_name}"),
                _ => supra_name.to_owned(),
            },
            code: body_code,
            kind: body_kind,
            fiscal_code: None,
            province: Some(plate.to_owned()),
            region_code: Some(region_code.to_owned()),
            istat_code: Some(supra_code.to_owned()),
            pec: None,
            members: Vec::new(),
        });
        comuni.push(Entity {
            code,
            // As the PA names it, in letters and on the pages: "Comune di Cervia".
            name: format!("Comune di {name}"),
            kind: EntityKind::Comune,
            fiscal_code: None,
            province: Some(plate.to_owned()),
            region_code: Some(region_code.to_owned()),
            istat_code: Some(istat_code.to_owned()),
            pec: None,
            members: Vec::new(),
        });
    }

    if !errors.is_empty() {
        return Err(ImportErrors(errors));
    }
    comuni.extend(bodies.into_values());
    Ok(comuni)
}

fn entities_from_rows(
    header: &Row,
    rows: &[Row],
    region: Option<&str>,
) -> Result<Vec<Entity>, ImportErrors> {
    let mut errors = Vec::new();
    check_region(region, header, &mut errors);

    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut entities = Vec::new();

    for row in rows {
        if let Some(problem) = column_count_problem(row, ENTITIES_HEADER.len()) {
            errors.push(RowError {
                line: row.line,
                message: problem,
            });
            continue;
        }
        let mut problems = Vec::new();
        let raw_code = row.field(0);
        let name = row.field(1).trim();
        let kind_field = row.field(2);
        let fiscal_code = row.field(3);
        let province = row.field(4);
        let members_field = row.field(5);

        let code = match EntityCode::parse(raw_code) {
            Ok(code) => {
                match seen.get(raw_code) {
                    Some(first) => {
                        problems.push(format!("duplicate code {raw_code} (first on line {first})"))
                    }
                    None => {
                        seen.insert(raw_code, row.line);
                    }
                }
                Some(code)
            }
            Err(err) => {
                problems.push(format!("code {raw_code:?}: {err}"));
                None
            }
        };
        if name.is_empty() {
            problems.push("name is empty".to_owned());
        }
        let kind = EntityKind::parse(kind_field);
        if kind.is_none() {
            let known = EntityKind::ALL.map(EntityKind::as_str).join(", ");
            problems.push(format!(
                "unknown kind {kind_field:?}; expected one of {known}"
            ));
        }
        if !(fiscal_code.is_empty() || is_digits(fiscal_code, 11)) {
            problems.push(format!(
                "fiscal_code {fiscal_code:?} is not 11 digits (leave it empty if unknown)"
            ));
        }
        if !(province.is_empty() || is_plate(province)) {
            problems.push(format!(
                "province {province:?} is not a two-letter plate such as BO"
            ));
        }
        // Whitespace around `;` and empty items (a trailing `;`) are tolerated: this file is
        // written by hand.
        let mut members: Vec<String> = Vec::new();
        for member in members_field
            .split(';')
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            if !is_digits(member, 6) {
                problems.push(format!("member {member:?} is not a 6-digit ISTAT code"));
            } else if members.iter().any(|m| m == member) {
                problems.push(format!("member {member} is listed twice"));
            } else {
                members.push(member.to_owned());
            }
        }

        if !problems.is_empty() {
            errors.push(RowError {
                line: row.line,
                message: problems.join("; "),
            });
            continue;
        }
        let (Some(code), Some(kind)) = (code, kind) else {
            // Unreachable: each of these being None added a problem above.
            continue;
        };
        entities.push(Entity {
            code,
            name: name.to_owned(),
            kind,
            fiscal_code: (!fiscal_code.is_empty()).then(|| fiscal_code.to_owned()),
            province: (!province.is_empty()).then(|| province.to_owned()),
            region_code: region.map(str::to_owned),
            istat_code: None,
            pec: None,
            members,
        });
    }

    if errors.is_empty() {
        Ok(entities)
    } else {
        Err(ImportErrors(errors))
    }
}

#[cfg(test)]
mod tests;
