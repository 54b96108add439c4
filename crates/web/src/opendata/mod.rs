//! The grants of the calls as the law asks them published (D.Lgs. 33/2013, articles 26 and
//! 27: the transparency page) and as open data: a CSV for spreadsheets set to Italian
//! ([`sheet`]), JSON for programs ([`json`]) and a 360Giving data package ([`giving360`]).
//!
//! Everything is read from the store at every request, so it is never behind: a grant is
//! an application admitted and funded (or funded once and revoked since), with the act that
//! awarded it, its final grant once its report is verified, what was paid, and the
//! revocation with what is to be recovered. Beneficiaries are public bodies: nothing here
//! is personal data.

pub mod export;
pub(crate) mod giving360;
pub(crate) mod json;
pub(crate) mod sheet;

use bandi_domain::allocation::Status;
use bandi_domain::call::Call;
use bandi_domain::entity::EntityKind;
use bandi_domain::i18n::Locale;
use bandi_domain::list::Outcome;
use bandi_domain::money::Money;
use bandi_domain::report::verification::ReportState;
use bandi_store::{GrantRow, PublishedVersion, Store, StoreError, StoredCall};

/// The prefix of a beneficiary's identifier when the registry gives no fiscal code: the
/// entity's code in this platform (the ISTAT code of a comune). Not a registered list.
pub const LOCAL_ID_PREFIX: &str = "IT-BANDI-ENTE-";

/// The act that awarded a grant: the published list in which it was last funded.
#[derive(Debug, Clone)]
pub(crate) struct AwardAct {
    pub number: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The list's version and its ledger entry.
    pub version: u32,
    pub ledger_seq: u64,
    /// The SHA-256 of the act's document, when one was uploaded.
    pub document: Option<String>,
}

impl AwardAct {
    fn of(v: &PublishedVersion) -> AwardAct {
        AwardAct {
            number: v.act_number.clone(),
            date: v.act_date.clone(),
            version: v.version,
            ledger_seq: v.ledger_seq,
            document: v.act_document_id.clone(),
        }
    }

    /// `DD 100/2020 del 15/06/2020`.
    pub fn words(&self, locale: Locale) -> String {
        let of = if locale == Locale::En { "of" } else { "del" };
        format!("{} {of} {}", self.number, sheet::date_it(&self.date))
    }
}

/// A revocation: its act and what had been paid then, to be recovered.
#[derive(Debug, Clone)]
pub(crate) struct Revocation {
    pub number: String,
    pub date: String,
    pub to_recover: Money,
}

/// Where a grant stands, for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Money reserved by the allocation, no act yet.
    Reserved,
    Awarded,
    Verified,
    Paid,
    Revoked,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Reserved => "reserved",
            Stage::Awarded => "awarded",
            Stage::Verified => "verified",
            Stage::Paid => "paid",
            Stage::Revoked => "revoked",
        }
    }

    pub fn label(self, locale: Locale) -> &'static str {
        let en = locale == Locale::En;
        match self {
            Stage::Reserved if en => "Funds reserved, awaiting the act of award",
            Stage::Reserved => "Risorse riservate, in attesa dell'atto di concessione",
            Stage::Awarded if en => "Awarded",
            Stage::Awarded => "Concesso",
            Stage::Verified if en => "Report verified",
            Stage::Verified => "Rendiconto verificato",
            Stage::Paid if en => "Paid",
            Stage::Paid => "Erogato",
            Stage::Revoked if en => "Revoked",
            Stage::Revoked => "Revocato",
        }
    }
}

/// One grant: the store's row, the award as its act approved it, and its revocation.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub row: GrantRow,
    /// The amount awarded: as the act's list states it, else what is reserved now.
    pub awarded: Money,
    pub act: Option<AwardAct>,
    pub revocation: Option<Revocation>,
}

impl Grant {
    /// The final grant, once the report's verification is closed.
    pub fn final_grant(&self) -> Option<Money> {
        self.row
            .final_grant
            .filter(|_| self.row.report_state == Some(ReportState::Verified))
    }

    pub fn stage(&self) -> Stage {
        if self.revocation.is_some() {
            Stage::Revoked
        } else if self.row.paid.is_positive() {
            Stage::Paid
        } else if self.final_grant().is_some() {
            Stage::Verified
        } else if self.act.is_some() {
            Stage::Awarded
        } else {
            Stage::Reserved
        }
    }

    /// What the grant is worth now: nothing once revoked, the final grant once verified,
    /// else the award.
    pub fn funded(&self) -> Money {
        if self.revocation.is_some() {
            Money::ZERO
        } else {
            self.final_grant().unwrap_or(self.awarded)
        }
    }

    /// `IT-CF-…` from the registry's fiscal code, else the local identifier.
    pub fn recipient_id(&self) -> String {
        match self.row.fiscal_code.as_deref().map(str::trim) {
            Some(cf) if !cf.is_empty() => format!("IT-CF-{cf}"),
            _ => format!("{LOCAL_ID_PREFIX}{}", self.row.entity_code),
        }
    }

    pub fn kind_label(&self, locale: Locale) -> String {
        match EntityKind::parse(&self.row.entity_kind) {
            Some(k) if locale == Locale::En => k.label_en().to_string(),
            Some(k) => k.label_it().to_string(),
            None => self.row.entity_kind.clone(),
        }
    }
}

/// A call with its grants in protocol order.
pub(crate) struct CallGrants {
    pub stored: StoredCall,
    pub grants: Vec<Grant>,
    /// The act of the latest published list, the act of award of the call.
    pub latest_act: Option<AwardAct>,
}

impl CallGrants {
    /// Reads the call's grants and published lists.
    pub async fn load(store: &Store, stored: StoredCall) -> Result<CallGrants, StoreError> {
        let code = stored.call.code.to_string();
        let rows = store.grants(&code).await?;
        let versions = store.published_lists(&code).await?;
        Ok(CallGrants {
            latest_act: versions.first().map(AwardAct::of),
            grants: rows
                .into_iter()
                .filter_map(|row| grant(row, &versions))
                .collect(),
            stored,
        })
    }

    pub fn call(&self) -> &Call {
        &self.stored.call
    }

    pub fn code(&self) -> &str {
        self.stored.call.code.as_str()
    }

    pub fn totals(&self) -> Totals {
        let sum = |f: &dyn Fn(&Grant) -> Money| {
            self.grants
                .iter()
                .map(f)
                .fold(Money::ZERO, |a, b| a.checked_add(b).unwrap_or(a))
        };
        Totals {
            awarded: sum(&|g| g.awarded),
            final_grant: sum(&|g| g.final_grant().unwrap_or(Money::ZERO)),
            paid: sum(&|g| g.row.paid),
            revoked: sum(&|g| {
                if g.revocation.is_some() {
                    g.awarded
                } else {
                    Money::ZERO
                }
            }),
            to_recover: sum(&|g| {
                g.revocation
                    .as_ref()
                    .map(|r| r.to_recover)
                    .unwrap_or(Money::ZERO)
            }),
        }
    }
}

/// The sums of a call's grants.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Totals {
    pub awarded: Money,
    pub final_grant: Money,
    pub paid: Money,
    pub revoked: Money,
    pub to_recover: Money,
}

/// The grant of `row`, if it is one: funded now, funded in a published list, or revoked.
/// The award is the amount of the latest list that funds it, with that list's act.
fn grant(row: GrantRow, versions: &[PublishedVersion]) -> Option<Grant> {
    let listed = versions.iter().find_map(|v| {
        v.rows
            .iter()
            .find(|r| {
                r.seq == row.seq && matches!(r.outcome, Outcome::Funded | Outcome::PartlyFunded)
            })
            .map(|r| (r.granted_cents, AwardAct::of(v)))
    });
    let funded_now =
        row.awarded.is_positive() && matches!(row.status, Status::Reserved | Status::Partial);
    if listed.is_none() && !funded_now && row.revoked.is_none() {
        return None;
    }
    let revocation = row
        .revoked
        .as_ref()
        .map(|(number, date, to_recover)| Revocation {
            number: number.clone(),
            date: date.clone(),
            to_recover: *to_recover,
        });
    let (awarded, act) = match listed {
        Some((amount, act)) => (amount, Some(act)),
        None => (row.awarded, None),
    };
    Some(Grant {
        row,
        awarded,
        act,
        revocation,
    })
}

/// Every call's grants, in the order of the calls' publication.
pub(crate) async fn all(store: &Store) -> Result<Vec<CallGrants>, StoreError> {
    let mut out = Vec::new();
    for stored in store.calls().await? {
        out.push(CallGrants::load(store, stored).await?);
    }
    Ok(out)
}

/// How the beneficiaries were chosen, in a few words (the pages say it at length with the
/// call's first-come rule): one cell of the open data.
pub(crate) fn how_chosen(locale: Locale) -> &'static str {
    match locale {
        Locale::En => {
            "First come, first served: applications funded in the order they arrived until the funds ran out"
        }
        Locale::It => {
            "Procedura a sportello: domande finanziate in ordine cronologico di arrivo fino a esaurimento delle risorse"
        }
    }
}
