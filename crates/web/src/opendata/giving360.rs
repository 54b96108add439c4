//! The grants as a 360Giving data package (<https://standard.threesixtygiving.org/>), the
//! open standard for grant data: `{"grants": [...]}` with, for each grant awarded by an
//! act, its identifier, title and description, the currency, the amounts applied for,
//! awarded and disbursed, the date of the act, the recipient and the funder with their
//! organisation identifiers, the planned dates (the call's opening to its completion
//! deadline), the beneficiary's location and the grant programme (the call). The tests
//! validate it against the standard's schemas, vendored in `crates/web/schema/`.
//!
//! Identifiers: a grant is `IT-CF-80062590379-{call}-{seq}` (the funder's identifier, the
//! call and the protocol number's sequence: unique and stable); a recipient is
//! `IT-CF-{fiscal code}`, or [`LOCAL_ID_PREFIX`]`{entity code}` when the registry has no
//! fiscal code for it. A grant whose money is reserved but not yet awarded by an act has no
//! award date, and is left out until its act is published. No URLs: the package does not
//! know the address the platform is served at, and the standard wants absolute ones.

use bandi_domain::call::Call;
use bandi_domain::money::Money;
use serde_json::{Value, json};

use super::{CallGrants, Grant, LOCAL_ID_PREFIX};
use crate::site::Site;

/// Euro as the standard writes amounts: a number. Every amount up to 10^13 € keeps its cents
/// through the shortest decimal form of a double (see the officials' XLSX export).
fn euros(m: Money) -> f64 {
    m.cents() as f64 / 100.0
}

fn date(call: &Call, t: jiff::Timestamp) -> String {
    t.to_zoned_datetime(call.tz()).date().to_string()
}

fn funder(site: &Site) -> Value {
    json!({"id": site.funder_id(), "name": site.name})
}

fn grant(c: &CallGrants, g: &Grant, site: &Site) -> Option<Value> {
    let act = g.act.as_ref()?;
    let call = c.call();
    let r = &g.row;
    let mut planned = json!({"startDate": date(call, call.opens_at)});
    if let Some(end) = call.completion_deadline {
        planned["endDate"] = json!(end.to_string());
    }
    let mut location = json!({
        "name": match &r.province {
            Some(p) => format!("{} ({p})", r.entity_name),
            None => r.entity_name.clone(),
        },
        "countryCode": "IT",
    });
    match (&r.istat_code, &r.province) {
        (Some(istat), _) => {
            location["geoCode"] = json!(istat);
            location["geoCodeType"] = json!("ISTAT");
        }
        (None, Some(p)) => {
            location["geoCode"] = json!(p);
            location["geoCodeType"] = json!("Provincia (sigla)");
        }
        (None, None) => {}
    }
    let mut recipient = json!({"id": g.recipient_id(), "name": r.entity_name});
    if let Some(p) = &r.province {
        recipient["addressRegion"] = json!(p);
    }
    recipient["addressCountry"] = json!("Italia");
    let description = if r.summary.trim().is_empty() {
        r.title.clone()
    } else {
        r.summary.clone()
    };
    let stage = g.stage();
    let mut out = json!({
        "id": format!("{}-{}-{}", site.funder_id(), c.code(), r.seq),
        "title": r.title,
        "description": description,
        "currency": "EUR",
        "amountAppliedFor": euros(r.requested),
        "amountAwarded": euros(g.awarded),
        "amountDisbursed": euros(r.paid),
        "awardDate": act.date,
        "plannedDates": [planned],
        "recipientOrganization": [recipient],
        "fundingOrganization": [funder(site)],
        "beneficiaryLocation": [location],
        "grantProgramme": [{"code": c.code(), "title": call.title.it}],
        "fromOpenCall": "Yes",
        "classifications": [{
            "vocabulary": "bandi:stage",
            "code": stage.as_str(),
            "title": stage.label(bandi_domain::i18n::Locale::It),
        }],
    });
    if let Some(cup) = &r.cup {
        out["relatedActivity"] = json!([format!("CUP:{cup}")]);
    }
    Some(out)
}

/// The package of the grants of `calls` awarded by an act.
pub fn package(calls: &[CallGrants], title: &str, site: &Site) -> Value {
    let grants: Vec<Value> = calls
        .iter()
        .flat_map(|c| c.grants.iter().filter_map(move |g| grant(c, g, site)))
        .collect();
    json!({
        "title": title,
        "description": format!(
            "Contributi concessi agli enti locali da {} (D.Lgs. 33/2013, artt. 26 e 27). \
             Importi in euro; identificativi dei beneficiari {} (codice fiscale) o {LOCAL_ID_PREFIX} \
             (codice dell'ente nella piattaforma) quando il codice fiscale manca.",
            site.name,
            "IT-CF-"
        ),
        "publisher": {"identifier": site.funder_id(), "name": site.name},
        "grants": grants,
    })
}
