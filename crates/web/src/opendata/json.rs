//! The grants as JSON for programs (`/api/v1/calls/{code}/grants`, `/api/v1/grants`): the
//! same facts as the CSV, amounts in integer cents and dates as ISO 8601, like the rest of
//! the API.

use bandi_domain::i18n::Locale;
use serde_json::{Value, json};

use super::{AwardAct, CallGrants, Grant, how_chosen};
use crate::pages::encode;
use crate::site::Site;

fn act_json(call: &str, a: &AwardAct) -> Value {
    json!({
        "number": a.number,
        "date": a.date,
        "list_version": a.version,
        "list_href": format!("/api/v1/calls/{}/lists/{}", encode(call), a.version),
        "ledger_seq": a.ledger_seq,
        "document_href": a.document.as_ref().map(|d| format!("/bandi/{}/atti/{d}", encode(call))),
    })
}

/// One grant.
pub fn grant(c: &CallGrants, g: &Grant) -> Value {
    let r = &g.row;
    let code = c.code();
    json!({
        "call": code,
        "seq": r.seq,
        "protocol": r.protocol,
        "beneficiary": {
            "id": g.recipient_id(),
            "entity_code": r.entity_code,
            "name": r.entity_name,
            "kind": r.entity_kind,
            "fiscal_code": r.fiscal_code,
            "province": r.province,
            "istat_code": r.istat_code,
        },
        "project": {"title": r.title, "cup": r.cup},
        "requested_cents": r.requested,
        "awarded_cents": g.awarded,
        "award_act": g.act.as_ref().map(|a| act_json(code, a)),
        "final_grant_cents": g.final_grant(),
        "paid_cents": r.paid,
        "revocation": g.revocation.as_ref().map(|v| json!({
            "act": {"number": v.number, "date": v.date},
            "to_recover_cents": v.to_recover,
        })),
        "stage": g.stage().as_str(),
        "ledger_href": format!("/registro?protocollo={}", encode(&r.protocol)),
    })
}

/// A call's grants with what the law asks beside them.
pub fn call(c: &CallGrants, site: &Site) -> Value {
    let call = c.call();
    let t = c.totals();
    json!({
        "call": c.code(),
        "title": call.title.it,
        "title_en": call.title.en,
        "funder": {"id": site.funder_id(), "name": site.name},
        "office": site.office,
        "office_in_call_file": false,
        "how_chosen": how_chosen(Locale::It),
        "how_chosen_en": how_chosen(Locale::En),
        "act_of_award": c.latest_act.as_ref().map(|a| act_json(c.code(), a)),
        "totals": {
            "awarded_cents": t.awarded,
            "final_grant_cents": t.final_grant,
            "paid_cents": t.paid,
            "revoked_cents": t.revoked,
            "to_recover_cents": t.to_recover,
        },
        "grants": c.grants.iter().map(|g| grant(c, g)).collect::<Vec<_>>(),
    })
}

/// Every call's grants, in one list.
pub fn all(calls: &[CallGrants], site: &Site) -> Value {
    json!({
        "funder": {"id": site.funder_id(), "name": site.name},
        "grants": calls
            .iter()
            .flat_map(|c| c.grants.iter().map(move |g| grant(c, g)))
            .collect::<Vec<_>>(),
    })
}
